"""The route of each request of a run, and the report's latency by route.

A request's route is the path template its ``request.end`` names (``route``: recorded for
Starlette, FastAPI and Litestar apps, and Bottle's rule), else the path its ``request.start``
gives, else the target its ``request.queued`` sent, its query left off (a request the app never
started: a server's 503, a client that gave up while it waited). A WebSocket session is a
route of its own, its path marked ``ws:`` as ``trace run --path`` marks one: its latency is how
long it stayed open. A request's method is read from its ``request.queued`` or
``request.start``: a path served with more than one method (``GET /item`` and ``POST /item``,
two handlers) is a route for each, named with its method; a path of one method keeps its plain
name (``route_labels``).

``RouteCodes`` keeps each request's route and method as a 2-byte code by request id, each
route's text and method once: a 100,000-request run holds about 200 kB for them. A run of
thousands of paths without templates (a Flask app's ``/items/<id>``) names its first
``MOST_ROUTES`` routes (a path and a method) and counts the requests of the others together
(``OTHER_ROUTES``), so its memory stays bounded (about 3 MB for the table at most).
``RouteTally``
adds the requests up by route once, when the report is made (``tracer.digest``).
Imports ``tracer.request_span`` and ``tracer.stats`` only.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tracer.request_span import RequestSpan
from tracer.stats import NS_PER_MS, stats_ms

__all__ = [
    "FROM_END",
    "FROM_START",
    "FROM_QUEUED",
    "MOST_ROUTES",
    "OTHER_ROUTES",
    "NO_ROUTE",
    "ROUTE_KEYS",
    "RouteCodes",
    "RouteFigures",
    "RouteTally",
    "route_label",
    "route_labels",
]

FROM_QUEUED, FROM_START, FROM_END = 1, 2, 3
"""Where a request's route was read, the stronger last: the template of ``request.end``
outranks the path of ``request.start``, which outranks the target of ``request.queued``,
whatever order the events come in."""

MOST_ROUTES = 16_384
"""The routes ``RouteCodes`` names (a text and a method, each as the event that named it
gave it); the requests of routes seen after them are counted together, as ``OTHER_ROUTES``."""

OTHER_ROUTES = f"(routes past the first {MOST_ROUTES:,})"
"""How the requests of the routes past ``MOST_ROUTES`` read, counted together."""

NO_ROUTE = "?"
"""How requests read whose events name no path (events made by hand)."""

ROUTE_KEYS = ("p50", "p90", "p99", "max")
"""The latency figures of each route."""

_GAP = 1024
"""How many ids a run of codes grows by at most for one request before the request starts a
run of its own: requests are seen out of order by about the concurrency."""
_MOST_RUNS = 4096
"""Past this many runs (request ids scattered, not counted up), codes are kept in a dict."""


class RouteCodes:
    """Each request's route, as a code by request id (0: none known yet).

    A process counts its request ids up from 1 (a forked worker from pid x 10^6 + 1), so the
    codes are kept in runs of consecutive ids (``array('H')``, 2 bytes an id) found from the id
    alone, as ``tracer.span_rows`` keeps the requests' rows. A code stands for a route's text
    and the request's method together (the method from whichever event gave one: an
    ``request.end``'s template comes without it). Codes 1 to 3 stand for the routes past
    ``MOST_ROUTES``, one for each of ``FROM_QUEUED``, ``FROM_START``, ``FROM_END``, their
    method unknown: a stronger name of the request still replaces them."""

    __slots__ = (
        "_texts",
        "_methods",
        "_ranks",
        "_codes",
        "_more",
        "_bases",
        "_runs",
        "_last",
        "_scattered",
    )

    def __init__(self) -> None:
        self._texts: list[str | None] = [None, None, None, None]
        """The route of each code (None: none, or past ``MOST_ROUTES``)."""
        self._methods: list[str | None] = [None, None, None, None]
        """The method of each code (None: no event of the request said one)."""
        self._ranks = bytearray([0, FROM_QUEUED, FROM_START, FROM_END])
        """Where each code's route was read (``FROM_QUEUED``...)."""
        self._codes: tuple[dict[str, int], ...] = ({}, {}, {}, {})
        """The code of each route by where it was read (``FROM_QUEUED``...) and its text, for
        the first method its text came with (most paths have one: no key made per route)."""
        self._more: tuple[dict[tuple[str, str | None], int], ...] = ({}, {}, {}, {})
        """The codes of a route's text with another method than its first, by where it was
        read, its text and its method."""
        self._bases: list[int] = []
        """The first request id of each run, ascending."""
        self._runs: list[array[int]] = []
        """Each run's codes, one per id from its base (0: none)."""
        self._last = 0
        """The run the last code went to: the next mostly goes there too."""
        self._scattered: dict[int, int] = {}
        """Codes of requests past ``_MOST_RUNS`` runs."""

    def note(self, req: Any, text: Any, rank: int, method: Any = None) -> None:
        """``req``'s route is ``text``, read from the event ``rank`` says, and its method
        ``method`` (None: the event says none): the route kept unless a stronger event named
        it already, the method kept from whichever event said one. Anything but a non-empty
        string names nothing (any JSON value in a recording read from elsewhere)."""
        if type(text) is not str or not text or type(req) is not int:
            return
        if type(method) is not str or not method:
            method = None
        bases = self._bases
        i = self._last
        if bases and bases[i] <= req:  # the run the last code went to, mostly
            run = self._runs[i]
            index = req - bases[i]
            if index < len(run):
                had = run[index]
                if not had and self._scattered:
                    had = self._scattered.pop(req, 0)
                if had and self._ranks[had] >= rank:
                    run[index] = self._merged(had, text, rank, method)
                    return
                # A stronger name (mostly): ``_merged`` inlined, on every request's way.
                if method is None and had >= 4:
                    method = self._methods[had]
                code = self._known(text, rank, method) or self._code(text, rank, method)
                run[index] = code
                return
            if index == len(run) and i + 1 == len(bases) and not self._scattered:
                # The next id: the run grows by one.
                run.append(self._merged(0, text, rank, method))
                return
        had = self._code_of(req)
        code = self._merged(had, text, rank, method)
        if code != had:
            self._set(req, code)

    def route(self, req: int) -> str | None:
        """``req``'s route: its text, ``OTHER_ROUTES``, or None when no event named it."""
        code = self._code_of(req)
        if not code:
            return None
        return self._texts[code] or OTHER_ROUTES

    def named(self, req: int) -> tuple[str | None, str | None]:
        """``req``'s route and method at once (``route``, ``method``): one look-up."""
        code = self._code_of(req)
        if not code:
            return None, None
        return self._texts[code] or OTHER_ROUTES, self._methods[code]

    def method(self, req: int) -> str | None:
        """``req``'s method, or None when no event said one (or its route is one of
        ``OTHER_ROUTES``)."""
        return self._methods[self._code_of(req)]

    def _merged(self, had: int, text: str, rank: int, method: str | None) -> int:
        """The code of a request of code ``had`` (0: none) that an event of ``rank`` names
        ``text`` and ``method``: ``had`` when it was named as strongly and the event adds no
        method it lacked; its route with the new method; else the new route with the method
        of either."""
        if had and self._ranks[had] >= rank:
            if method is None or had < 4 or self._methods[had] is not None:
                return had
            # Its method, when the table still has room for it: else it keeps its route.
            code = self._code(self._texts[had] or text, self._ranks[had], method)
            return code if code >= 4 else had
        if method is None and had >= 4:
            method = self._methods[had]
        return self._known(text, rank, method) or self._code(text, rank, method)

    def _known(self, text: str, rank: int, method: str | None) -> int:
        """The code already given to route ``text`` and ``method`` read from a ``rank`` event,
        or 0."""
        code = self._codes[rank].get(text)
        if code is None:
            return 0
        if self._methods[code] == method:
            return code
        return self._more[rank].get((text, method), 0)

    def _code(self, text: str, rank: int, method: str | None) -> int:
        """The code of route ``text`` and ``method`` read from a ``rank`` event: its own,
        given one now while there is room, else the routes' past ``MOST_ROUTES``."""
        if rank == FROM_QUEUED and "?" in text:
            text = text.partition("?")[0]
        code = self._known(text, rank, method)
        if not code:
            if len(self._texts) - 4 >= MOST_ROUTES:
                return rank
            # One string for each method, not one per route (each event's is its own copy).
            method = None if method is None else sys.intern(method)
            code = len(self._texts)
            codes = self._codes[rank]
            if text in codes:  # its text came with another method first
                self._more[rank][text, method] = code
            else:
                codes[text] = code
            self._texts.append(text)
            self._methods.append(method)
            self._ranks.append(rank)
        return code

    def _code_of(self, req: int) -> int:
        """``req``'s code (0: none)."""
        bases, runs = self._bases, self._runs
        i = self._last
        if not (bases and bases[i] <= req < bases[i] + len(runs[i])):
            i = bisect_right(bases, req) - 1
            if i < 0 or req - bases[i] >= len(runs[i]):
                return self._scattered.get(req, 0) if self._scattered else 0
        code = runs[i][req - bases[i]]
        return code or (self._scattered.get(req, 0) if self._scattered else 0)

    def _set(self, req: int, code: int) -> None:
        """Keep ``code`` as ``req``'s: in a run, grown to it, or a new run (past
        ``_MOST_RUNS`` runs, in ``_scattered``)."""
        bases, runs = self._bases, self._runs
        i = bisect_right(bases, req) - 1
        if i >= 0:
            run, index = runs[i], req - bases[i]
            if index < len(run):
                self._last = i
                run[index] = code
                self._scattered.pop(req, None)
                return
            if index - len(run) <= _GAP:
                self._last = i
                run.frombytes(bytes(2 * (index - len(run))))
                run.append(code)
                self._join(i)
                return
        if len(runs) >= _MOST_RUNS:
            self._scattered[req] = code
            return
        i += 1
        bases.insert(i, req)
        runs.insert(i, array("H", [code]))
        self._last = i
        self._join(i)

    def _join(self, i: int) -> None:
        """Run ``i`` and the next as one when they meet."""
        bases, runs = self._bases, self._runs
        if i + 1 < len(bases) and bases[i] + len(runs[i]) == bases[i + 1]:
            runs[i].extend(runs[i + 1])
            del bases[i + 1], runs[i + 1]


def route_label(route: str | None, scope_type: Any) -> str:
    """How the report names a request's route: ``route`` (``NO_ROUTE`` when None), marked
    ``ws:`` for a WebSocket session."""
    text = NO_ROUTE if route is None else route
    return f"ws:{text}" if scope_type == "websocket" else text


def route_labels(routes: Iterable[tuple[str, str | None]]) -> dict[tuple[str, str | None], str]:
    """How the report names each of ``routes`` (a ``route_label`` and a method, None when no
    event said one): a route served with more than one method is one row for each, its
    method before it (``GET /item``, ``POST /item``; requests of it that said none keep the
    plain name); a route of one method keeps its plain name, as before methods were read."""
    keys = list(routes)
    methods = Counter(route for route, _ in keys)
    return {
        (route, method): route if method is None or methods[route] == 1 else f"{method} {route}"
        for route, method in keys
    }


@dataclass(frozen=True, slots=True)
class RouteFigures:
    """One route's requests and their latency."""

    route: str
    """The route (``route_label``), its method before it when its path was served with
    several (``route_labels``)."""
    requests: int
    """Requests of it."""
    errors: int
    """Of which failed (``RequestSpan.failed``)."""
    latencies: int
    """Of which finished: how many values ``latency_ms`` is of."""
    total_ms: float
    """Their latencies added up: the time the route took, which orders the routes."""
    latency_ms: dict[str, float] = field(default_factory=dict)
    """``ROUTE_KEYS`` of their latencies (empty when none finished)."""


@dataclass(slots=True)
class _RouteSum:
    requests: int = 0
    errors: int = 0
    latencies: array[int] | list[Any] = field(default_factory=lambda: array("q"))


class RouteTally:
    """Requests added up by route (``add``), as ``tracer.summary.SpanTally`` adds them up
    for the run: a request's latency runs from its arrival to its end (``finished``)."""

    __slots__ = ("_routes",)

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str | None], _RouteSum] = {}

    def __len__(self) -> int:
        """How many routes (a path served with several methods counts once for each)."""
        return len(self._routes)

    def add(self, route: str, span: RequestSpan, method: str | None = None) -> None:
        """Count ``span``, a request of ``route`` sent with ``method`` (None: unknown)."""
        key = (route, method)
        tally = self._routes.get(key)
        if tally is None:
            tally = self._routes[key] = _RouteSum()
        tally.requests += 1
        if span.failed:
            tally.errors += 1
        finished, arrived = span.finished, span.arrived
        if finished is not None and arrived is not None:
            try:
                tally.latencies.append(finished - arrived)
            except (TypeError, OverflowError):  # a float time, a number past 64 bits
                tally.latencies = [*tally.latencies, finished - arrived]

    def busiest(self, count: int) -> list[RouteFigures]:
        """The ``count`` routes that took the most time (their latencies added up), the
        busiest first; routes of equal time by name (``route_labels``)."""
        labels = route_labels(self._routes)
        totals = sorted(
            ((sum(tally.latencies), labels[key], key) for key, tally in self._routes.items()),
            key=lambda item: (-item[0], item[1]),
        )
        figures = []
        for total, label, key in totals[:count]:
            tally = self._routes[key]
            figures.append(
                RouteFigures(
                    route=label,
                    requests=tally.requests,
                    errors=tally.errors,
                    latencies=len(tally.latencies),
                    total_ms=round(total / NS_PER_MS, 3),
                    latency_ms=stats_ms(tally.latencies, ROUTE_KEYS) if tally.latencies else {},
                )
            )
        return figures

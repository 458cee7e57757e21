"""``summarize``: the numbers of a run, computed from its recording alone.

The same function serves traced and simulated recordings (a simulation reports simulated
seconds). Imports only ``tracer.events``, ``tracer.errors`` and ``tracer.recording``.
"""

from __future__ import annotations

import math
import os
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tracer.errors import UsageError
from tracer.events import (
    ASGI_SEND,
    CLIENT_RESPONSE,
    ERROR,
    LOOP_BLOCKED,
    REQUEST_END,
    REQUEST_QUEUED,
    REQUEST_START,
    VIOLATION,
    Event,
    is_server_error,
)
from tracer.recording import Recording, load

__all__ = [
    "summarize",
    "first_request",
    "alignment",
    "ends_response",
    "summarize_spans",
    "SpanTally",
    "offered_s",
    "load_of",
    "percentile",
    "stats_ms",
    "peak_in_flight",
    "request_spans",
    "RequestSpan",
    "SPAN_KINDS",
    "is_server_error",
    "Instant",
    "LATENCY_KEYS",
    "QUEUE_KEYS",
]

NS_PER_MS = 1_000_000
LATENCY_KEYS = ("mean", "p50", "p90", "p95", "p99", "p99.9", "max")
"""The figures of the summary's ``latency_ms``."""
QUEUE_KEYS = ("mean", "p50", "p99", "max")
"""The figures of the summary's ``queue_ms``."""


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) of sorted values, linearly interpolated; 0 when empty."""
    if not sorted_values:
        return 0.0
    if len(sorted_values) == 1:
        return float(sorted_values[0])
    rank = (len(sorted_values) - 1) * q / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return float(sorted_values[low])
    weight = rank - low
    return float(sorted_values[low] * (1 - weight) + sorted_values[high] * weight)


_BODY_TYPES = frozenset({"http.response.body", "http.response.zerocopysend"})

SPAN_KINDS = frozenset(
    {REQUEST_QUEUED, REQUEST_START, REQUEST_END, ASGI_SEND, ERROR, CLIENT_RESPONSE}
)
"""The event kinds ``RequestSpan.take`` reads: a request's other events change none of its
instants, nor whether it finished or failed."""


def ends_response(data: dict[str, Any]) -> bool:
    """Whether an ``asgi.send``'s data is its response's last body message: a body or
    zero-copy send without ``more_body``, or a ``pathsend`` (the whole body at once). A send
    the server refused (``raised``) sent nothing."""
    mtype = data.get("type")
    if mtype == "http.response.pathsend":
        return "raised" not in data
    return mtype in _BODY_TYPES and not data.get("more_body") and "raised" not in data


class RequestSpan:
    """The lifecycle instants of one request, gathered from its events (ns, or None).

    ``end``/``status``/``error`` come from ``request.end``; ``raised`` from the request's
    ``error`` events; ``client_*`` from the network client's ``client.response`` (real
    servers). Where the client saw the request, its view is
    the request's outcome (``finished``, ``outcome_status``): a server can answer without the
    app (uvicorn's 503 past ``--limit-concurrency``, a 500 for an app that raised, a refused
    WebSocket), and the response reaches the client after the app returned. Without a network
    client, an ASGI response is over with its last body message (``response_*``), not when
    the app returns: Starlette's BackgroundTasks run after it, and no client waits for them.
    """

    __slots__ = (
        "req",
        "queued",
        "start",
        "start_seq",
        "end",
        "end_seq",
        "status",
        "error",
        "raised",
        "scope_type",
        "client_end",
        "client_seq",
        "client_status",
        "client_error",
        "response_end",
        "response_status",
    )

    def __init__(self, req: int) -> None:
        self.req = req
        self.queued: int | None = None
        self.start: int | None = None
        self.start_seq: int | None = None
        self.end: int | None = None
        self.end_seq: int | None = None
        self.status: int | None = None
        self.error: str | None = None
        self.raised: str | None = None
        self.scope_type: str | None = None
        self.client_end: int | None = None
        self.client_seq: int | None = None
        self.client_status: int | None = None
        self.client_error: str | None = None
        self.response_end: int | None = None
        self.response_status: int | None = None

    @property
    def arrived(self) -> int | None:
        """When the request came into existence: queued, else started."""
        return self.queued if self.queued is not None else self.start

    @property
    def queue_wait(self) -> int | None:
        """Time queued before the app started it (ns), or None if it was never queued.

        Queueing ends at the start, or earlier if the request was over before that (the
        client gave up while it waited, and then the app may never start it): it never
        exceeds the latency, and the requests that waited longest are not left out. A
        request the server answered without ever starting the app (uvicorn's 503 past
        ``--limit-concurrency``) was turned away, not queued for the app: None.
        """
        queued = self.queued
        if queued is None or (self.start is None and self.outcome_status is not None):
            return None
        ends = [t for t in (self.start, self.finished) if t is not None]
        return min(ends) - queued if ends else None

    @property
    def finished(self) -> int | None:
        """When it was over for whoever sent it: the client had the whole response (or gave
        up), else the app sent its last body message or ``request.end`` came, whichever was
        first (a client that timed out before the body left)."""
        if self.client_end is not None:
            return self.client_end
        if self.response_end is not None and (self.end is None or self.response_end < self.end):
            return self.response_end
        return self.end

    @property
    def outcome_status(self) -> int | None:
        """The status the client got, else the one ``request.end`` recorded (or the response
        sent, while the app still runs after it)."""
        if self.client_end is not None:
            return self.client_status
        if self.end is None:
            return self.response_status
        return self.status

    def take(self, event: Event) -> None:
        """One of the request's events, whatever order they come in: the rules the summary,
        the streaming digest (``tracer.digest``) and the live header (``tracer.tui.live_stats``)
        all build their requests with, so they judge each one alike (``finished``, ``failed``).

        The earliest ``request.queued`` and ``request.start`` count (the start's ``scope_type``
        with it); kinds outside ``SPAN_KINDS`` are ignored."""
        kind = event.kind
        if kind == ASGI_SEND:
            self.take_send(event)
        elif kind == REQUEST_END:
            self.take_end(event.end, event.data, event.seq)
        elif kind == REQUEST_START:
            if self.start is None or event.t < self.start:
                self.start = event.t
                self.start_seq = event.seq
                self.scope_type = event.data.get("scope_type")
        elif kind == REQUEST_QUEUED:
            if self.queued is None or event.t < self.queued:
                self.queued = event.t
        elif kind == ERROR:
            self.take_error(event.data)
        elif kind == CLIENT_RESPONSE:
            self.take_client_response(event.end, event.data, event.seq)

    def take_end(self, end: int, data: dict[str, Any], seq: int | None = None) -> None:
        """A ``request.end`` ending at ``end`` (event ``seq``): the first one counts (a client
        timeout ends the request even if the app finishes, and the shim records its own end,
        later)."""
        if self.end is None or end < self.end:
            self.end = end
            self.end_seq = seq
            self.status = data.get("status")
            self.error = data.get("error")

    def take_send(self, event: Event) -> None:
        """An ``asgi.send``: the response's status, and its end with the last body message."""
        data = event.data
        mtype = data.get("type")
        if mtype == "http.response.start":
            status = data.get("status")
            if self.response_status is None and isinstance(status, int):
                self.response_status = status
        elif ends_response(data):
            if self.response_end is None or event.end < self.response_end:
                self.response_end = event.end

    def take_error(self, data: dict[str, Any]) -> None:
        """An ``error`` event of this request: the first one's type is ``raised``.

        Wherever it comes among the request's events, it is the request's error: one recorded
        after the request's end still is (the ``loop`` model's "Event loop stopped" on the
        request that stopped the loop, which had its response already).
        """
        if self.raised is None:
            kind = data.get("type")
            self.raised = str(kind) if kind else "error"

    @property
    def outcome_error(self) -> str | None:
        """The app's exception if it raised (as its end names it, else as its ``error``
        event does), else the client's failure (refused, timed out)."""
        return self.error or self.raised or self.client_error

    @property
    def failed(self) -> bool:
        """An error: the app raised (an ``error`` event of the request counts, even one
        recorded after its end), the client got no response, or the response was a 5xx.

        A request that ended without any status (the app returned without starting a
        response: the server answers 500 for it, or drops the connection) got no response.
        """
        status = self.outcome_status
        if self.outcome_error:
            return True
        if status is None:
            return self.finished is not None
        return is_server_error(status)

    def take_client_response(self, end: int, data: dict[str, Any], seq: int | None = None) -> None:
        """A ``client.response`` ending at ``end`` (event ``seq``; the first one counts)."""
        if self.client_end is None or end < self.client_end:
            self.client_end = end
            self.client_seq = seq
            status = data.get("status")
            self.client_status = status if isinstance(status, int) else None
            error = data.get("error")
            self.client_error = str(error) if error else None


def request_spans(events: Iterable[Event]) -> dict[int, RequestSpan]:
    """Per-request lifecycle instants (``RequestSpan.take``), lifespan scopes left out."""
    spans: dict[int, RequestSpan] = {}
    for event in events:
        req = event.req
        if req is None or event.kind not in SPAN_KINDS:
            continue
        span = spans.get(req)
        if span is None:
            span = spans[req] = RequestSpan(req)
        span.take(event)
    return {req: span for req, span in spans.items() if span.scope_type != "lifespan"}


def first_request(recording: Recording) -> int:
    """When the first request arrived (else the first event; 0 for an empty recording).

    What happened before (importing the app, lifespan startup, spawning worker processes)
    is the server starting, not serving: compared recordings are aligned here.
    """
    arrivals = [
        s.arrived for s in request_spans(recording.events).values() if s.arrived is not None
    ]
    if arrivals:
        return max(0, min(arrivals))
    return max(0, min((e.t for e in recording.events), default=0))


def alignment(recordings: Sequence[Recording]) -> list[int]:
    """Per recording, what to subtract from its times to put its first request where the
    first recording's is (0 for the first)."""
    firsts = [first_request(r) for r in recordings]
    return [first - firsts[0] for first in firsts] if firsts else []


def stats_ms(values_ns: Iterable[int], keys: Sequence[str]) -> dict[str, float]:
    """Durations in ns as ms figures rounded to the µs: ``mean``, ``max`` and ``pNN`` keys."""
    values = sorted(v / NS_PER_MS for v in values_ns)
    out: dict[str, float] = {}
    for key in keys:
        if key == "mean":
            out[key] = round(sum(values) / len(values), 3) if values else 0.0
        elif key == "max":
            out[key] = round(values[-1], 3) if values else 0.0
        else:
            out[key] = round(percentile(values, float(key[1:])), 3)
    return out


Instant = int | tuple[int, int]
"""When an interval opens or closes: a time in ns, or ``(t, seq)`` where the event order at
that time is known (a recording's ``seq``, a simulation's order of happening)."""

_LAST = 2**63
"""A ``seq`` after every other: a start whose event order is unknown comes after the ends."""


def peak_in_flight(starts: Iterable[Instant], ends: Iterable[Instant]) -> int:
    """The most intervals open at one instant, given their start and end instants.

    Instants are taken in order; at one time, ``(t, seq)`` instants in their event order, so a
    request that starts and ends at the same instant (zero-time work) is in flight between its
    two events. Where only a time is known, an end at the same time as a start comes first:
    back-to-back requests do not overlap.
    """
    edges = [_instant_edge(instant, 1) for instant in starts]
    edges.extend(_instant_edge(instant, 0) for instant in ends)
    return _peak(edges)


def _instant_edge(instant: Instant, start: int) -> int:
    """The ``_edge`` of an instant: a bare time has no known ``seq``."""
    if isinstance(instant, tuple):
        return _edge(instant[0], instant[1], start)
    return _edge(instant, None, start)


def _edge(t: int, seq: int | None, start: int) -> int:
    """An interval's start (``start`` 1) or end (0) at time ``t``, event ``seq``, as one
    integer that sorts as ``(t, seq, start)`` does: a 100,000-request summary made 200,000
    nested tuples to sort, 20 MB of a run's peak memory, where ints take a third. A ``seq``
    not known (None: a span built without one) is after every event for a start, before
    every event for an end; one outside the format's range (a hand-made recording) is
    clamped into it."""
    if seq is None:
        seq = _LAST if start else -1
    elif seq < -1:
        seq = -1
    elif seq > _LAST:
        seq = _LAST
    return t * _EDGE_T + (seq + 1) * 2 + start


_EDGE_T = 2**66
"""The weight of ``t`` in an edge: above every ``(seq + 1) * 2 + start``, seq at most 2**63."""


def _peak(edges: list[int]) -> int:
    """The most intervals open at once, over ``_edge`` integers (sorted here)."""
    edges.sort()
    current = best = 0
    for edge in edges:
        if edge & 1:
            current += 1
            if current > best:
                best = current
        else:
            current -= 1
    return best


def offered_s(load: Mapping[str, Any] | None, arrivals: int) -> float:
    """How long an open loop (``--rate``) takes to offer ``arrivals`` requests: as many mean
    gaps, and no longer than its ``-z`` duration; 0 for a closed loop or no ``load``.

    An open loop's throughput is taken over at least this time. The span of its requests
    starts at the first arrival, one random gap after the load began, so ``-n 20 --rate 50``
    spread 20 requests over 19 gaps and reported about 55 requests/s (70 on a quick draw).
    Over this time a run reports more than its rate only when more requests arrived than the
    rate offers in its ``-z`` duration, and it completed them.
    """
    rate = _positive(load.get("rate")) if load else None
    if load is None or rate is None:
        return 0.0
    seconds = arrivals / rate
    duration = _positive(load.get("duration_s"))
    return min(seconds, duration) if duration is not None else seconds


def _positive(value: Any) -> float | None:
    """``value`` as a float when it is a finite number above 0 (not a bool), else None."""
    if type(value) not in (int, float) or not math.isfinite(value) or value <= 0:
        return None
    return float(value)


def summarize(recording: Recording | Sequence[Event] | Any) -> dict[str, Any]:
    """The summary dict of a run (see DESIGN.md): counts, rps, latency, queueing, blocking.

    Takes a ``Recording``, a list of events, anything with ``.events`` (a ``Recorder``), or
    the path of a recording file (read with ``tracer.load``).
    """
    if isinstance(recording, str | os.PathLike):
        recording = load(recording)
    header: Mapping[str, Any] = {}
    if isinstance(recording, Recording):
        events = recording.events
        header = recording.header
    else:
        source = getattr(recording, "events", recording)
        try:
            events = list(source)
        except TypeError:
            raise UsageError(
                "summarize takes a Recording, a list of events, a Recorder or the path of a "
                f"recording, not {type(recording).__name__}."
            ) from None
        bad = next((e for e in events if not isinstance(e, Event)), None)
        if bad is not None:
            raise UsageError(
                f"summarize takes events (tracer.Event), not {type(bad).__name__} {bad!r:.60}."
            )
        header = getattr(recording, "header", None) or {}
    # The run's wall time spans its requests: a lifespan connection (startup before the first
    # request, shutdown after the last) is not part of the load and would dilute rps.
    lifespan = {
        event.req
        for event in events
        if event.kind == REQUEST_START and event.data.get("scope_type") == "lifespan"
    }
    timed = [event for event in events if event.req not in lifespan] if lifespan else events
    if timed:
        first = min(event.t for event in timed)
        last = max(event.end for event in timed)
    else:
        first = last = 0
    return summarize_spans(
        request_spans(events),
        first=first,
        last=last,
        blocked_ns=sum(event.dur or 0 for event in events if event.kind == LOOP_BLOCKED),
        violations=sum(1 for event in events if event.kind == VIOLATION),
        load=load_of(header),
    )


def load_of(header: Any) -> Mapping[str, Any] | None:
    """The header's ``load`` when it is an object (a header of another shape, or none, has
    none)."""
    load = header.get("load") if isinstance(header, Mapping) else None
    return load if isinstance(load, Mapping) else None


def summarize_spans(
    spans: Mapping[int, RequestSpan],
    *,
    first: int,
    last: int,
    blocked_ns: int,
    violations: int,
    load: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The summary dict from per-request spans and run-wide totals (for streaming readers).

    ``first``/``last``: the earliest event time and the latest event end (ns). ``load``: the
    recording header's ``load``, which gives an open loop's throughput its time (``rps``).
    """
    tally = SpanTally()
    for span in spans.values():
        tally.add(span)
    return tally.summary(
        first=first, last=last, blocked_ns=blocked_ns, violations=violations, load=load
    )


class SpanTally:
    """What the summary reads of each request, added up one span at a time.

    A span is read once and can go: its latency and time queued are kept as 8-byte numbers
    (``array('q')``), the rest as counts, so a streaming reader that keeps its requests
    packed (``tracer.digest``) builds one short-lived ``RequestSpan`` at a time. A duration
    that is not a 64-bit integer (events made by hand) turns its column into a list.
    """

    __slots__ = (
        "requests",
        "completed",
        "errors",
        "latencies",
        "queues",
        "status",
        "_last_end",
        "_edges",
        "_peak",
    )

    def __init__(self) -> None:
        self.requests = 0
        """Spans added."""
        self.completed = 0
        """Of which finished (``RequestSpan.finished``)."""
        self.errors = 0
        """Of which failed (``RequestSpan.failed``)."""
        self.latencies: array[int] | list[Any] = array("q")
        """``finished - arrived`` of each finished request (ns), in the order added."""
        self.queues: array[int] | list[Any] = array("q")
        """``queue_wait`` of each request that has one (ns), in the order added."""
        self.status: Counter[str] = Counter()
        """Outcome statuses as the summary's keys (``"200"``)."""
        self._last_end: Any = None
        # In flight means in the app: request.start to request.end (the client's end when the
        # server's was lost). One that never ended counts until the end of the recording.
        # At one instant, events count in recording order (seq): requests of zero time were
        # in the app between their start and end events, and others ended before a next began.
        self._edges: list[int] | None = []
        self._peak = 0

    def add(self, span: RequestSpan) -> None:
        """Count one request (each once; not after ``max_in_flight`` was read)."""
        edges = self._edges
        if edges is None:
            raise RuntimeError("SpanTally.add after its max_in_flight was read")
        self.requests += 1
        finished = span.finished
        if finished is not None:
            self.completed += 1
            if self._last_end is None or finished > self._last_end:
                self._last_end = finished
            arrived = span.arrived
            if arrived is not None:
                self.latencies = _append(self.latencies, finished - arrived)
        wait = span.queue_wait
        if wait is not None:
            self.queues = _append(self.queues, wait)
        if span.start is not None:
            edges.append(_edge(span.start, span.start_seq, 1))
            end = _left_app(span)
            if end is not None:
                edges.append(end)
        if span.failed:
            self.errors += 1
        code = span.outcome_status
        if code is not None:
            self.status[str(code)] += 1

    @property
    def max_in_flight(self) -> int:
        """The most requests in the app at once; worked out at the first read, after which
        the instants it took are freed and no more spans can be added."""
        if self._edges is not None:
            self._peak = _peak(self._edges)
            self._edges = None
        return self._peak

    def summary(
        self,
        *,
        first: int,
        last: int,
        blocked_ns: int,
        violations: int,
        load: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The summary dict of the spans added, with the run-wide figures of
        ``summarize_spans``."""
        wall_s = (last - first) / 1e9
        # Throughput is over the time the load took: to the last request's end (its response's
        # end for whoever sent it), not to work an app does after its responses
        # (BackgroundTasks: a second of it made 1,000 requests read 819 a second where they
        # took 0.17 s). A request that never ended (a run cut short) keeps the whole wall time.
        if self.requests and self.completed == self.requests:
            served_s = (self._last_end - first) / 1e9
        else:
            served_s = wall_s
        rate_s = max(served_s, offered_s(load, self.requests))
        completed = self.completed
        return {
            "requests": self.requests,
            "completed": completed,
            "errors": self.errors,
            "wall_s": round(wall_s, 3),
            # Requests that all ended the instant the first began (a zero-time simulation)
            # took no time: they have no rate (None), which is not a rate of 0.
            "rps": round(completed / rate_s, 1) if rate_s > 0 else (None if completed else 0.0),
            "latency_ms": stats_ms(self.latencies, LATENCY_KEYS),
            "queue_ms": stats_ms(self.queues, QUEUE_KEYS),
            "status": dict(sorted(self.status.items())),
            "max_in_flight": self.max_in_flight,
            "loop_blocked_ms": round(blocked_ns / NS_PER_MS, 3),
            "violations": violations,
        }


def _append(column: array[int] | list[Any], value: Any) -> array[int] | list[Any]:
    """``column`` with ``value`` appended: an ``array('q')`` turns into a list at the first
    value it cannot hold (a float time, a number past 64 bits)."""
    try:
        column.append(value)
    except (TypeError, OverflowError):
        column = [*column, value]
    return column


def _left_app(span: RequestSpan) -> int | None:
    """The edge (``_edge``) of when the request left the app: its ``request.end``, else the
    client's end (the server's end was lost); None while it never ended."""
    if span.end is not None:
        return _edge(span.end, span.end_seq, 0)
    if span.client_end is not None:
        return _edge(span.client_end, span.client_seq, 0)
    return None

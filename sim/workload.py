"""What simulated requests do: routes, each a weighted sequence of phases.

A phase is ``cpu`` (holds the GIL, and the loop in async models), ``io`` (awaited in async
models, blocking a thread in sync ones), ``blocking-io`` (a blocking wait: holds the loop in
async models, releases the GIL), ``offload`` (cpu then blocking io on the loop's thread pool),
``send`` (response chunks, with an optional wait between them) or ``ws`` (a WebSocket session:
``messages`` messages of ``bytes`` bytes, each answered ``reply_after`` later; the route is then a
``websocket`` scope, which only the ASGI ``loop`` model serves). Workloads come from the inline
``--cpu/--io/--blocking-io`` options, a TOML file, or a bundled file by name (``mixed`` is
``sim/workloads/mixed.toml``, read from the installed package wherever the command runs).
Imports only ``tracer.errors``, ``tracer.toml_file`` (reading the file) and ``sim.dist``.
"""

from __future__ import annotations

import math
import os
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from sim.dist import Dist, Exponential, Fixed, parse_dist
from tracer.errors import UsageError
from tracer.toml_file import read_toml

__all__ = [
    "CPU",
    "IO",
    "BLOCKING_IO",
    "OFFLOAD",
    "SEND",
    "WS",
    "PHASE_NAMES",
    "Phase",
    "Route",
    "Workload",
    "bundled_workloads",
    "inline_workload",
    "load_workload",
    "refuse_websocket",
    "workload_from_dict",
]

# Phase codes: small ints, because the engine dispatches on them for every simulated phase.
CPU, IO, BLOCKING_IO, OFFLOAD, SEND, WS = range(6)
PHASE_NAMES: dict[str, int] = {
    "cpu": CPU,
    "io": IO,
    "blocking-io": BLOCKING_IO,
    "offload": OFFLOAD,
    "send": SEND,
    "ws": WS,
}
_NAME_OF = {code: name for name, code in PHASE_NAMES.items()}

MAX_PARTS = 1_000_000
"""The most body chunks of one ``send`` phase, or messages of one ``ws`` phase. Each is an
event of its own (a chunk about 400 bytes of recording, a message and its reply about 600):
a typo'd ``chunks = 1000000000`` would otherwise write gigabytes for one request."""

MAX_BYTES = 2**40
"""The largest body, chunk or message size (1 TiB): sizes are recorded and exported as
integers (OTLP's are 64-bit), and no simulated body comes near it."""

MAX_WEIGHT = 1e12
"""The largest route weight: weights are relative, and their sum must stay a finite number."""


@dataclass(frozen=True, slots=True)
class Phase:
    """One phase of a route's handler."""

    code: int
    """CPU, IO, BLOCKING_IO, OFFLOAD, SEND or WS."""
    dist: Dist | None = None
    """Duration of cpu/io/blocking-io; the CPU part of an offload; the wait between sends;
    WS: the wait before each reply (``reply_after``)."""
    io: Dist | None = None
    """OFFLOAD only: the blocking wait the pool thread does after its CPU part."""
    chunks: int = 1
    """SEND: how many body chunks; WS: how many messages the client sends."""
    bytes: int = 0
    """SEND: bytes per chunk; WS: bytes per message (and per reply)."""

    @property
    def name(self) -> str:
        """The spelling used in workload files and locations."""
        return _NAME_OF[self.code]

    def sample(self, rng: random.Random) -> tuple[int, ...]:
        """Draw this phase's durations: ``(code, a, b)`` with ns (SEND: chunks, bytes, gap;
        WS: messages, bytes, reply delay, drawn once for the whole session)."""
        if self.code == OFFLOAD:
            cpu = self.dist.sample(rng) if self.dist is not None else 0
            io = self.io.sample(rng) if self.io is not None else 0
            return (OFFLOAD, cpu, io)
        if self.code in (SEND, WS):
            gap = self.dist.sample(rng) if self.dist is not None else 0
            return (self.code, self.chunks, self.bytes, gap)
        assert self.dist is not None  # built by workload_from_dict, which always sets it
        return (self.code, self.dist.sample(rng))

    def sampler(self) -> Callable[[random.Random], tuple[int, ...]]:
        """``sample`` as a closure, specialised for the common distributions (the hot path).

        Draws exactly what ``sample`` draws, in the same order, so both give the same numbers.
        """
        code, dist = self.code, self.dist
        if code in (OFFLOAD, SEND, WS):
            return self.sample
        if isinstance(dist, Fixed):
            fixed = (code, dist.ns)  # one shared tuple: nothing to allocate per request
            return lambda rng: fixed
        if isinstance(dist, Exponential):
            mean, log = dist.mean, math.log
            return lambda rng: (code, round(-log(1.0 - rng.random()) * mean))
        return self.sample


@dataclass(frozen=True, slots=True)
class Route:
    """One kind of request: method, path, weight and the phases its handler goes through."""

    name: str
    """Label used in locations (``sim:<route>:<phase>``)."""
    phases: tuple[Phase, ...]
    """In order."""
    method: str = "GET"
    """HTTP method."""
    path: str = "/"
    """HTTP path."""
    weight: float = 1.0
    """Relative share of requests."""
    bytes: int = 13
    """Body size when the phases contain no ``send`` (one chunk at the end)."""
    sync: bool = False
    """Async models: the whole handler runs in the thread pool (a ``def`` endpoint)."""
    reads_body: bool = True
    """``loop``: the app awaits ``receive()`` for the (empty) request body first, one
    ``asgi.receive`` of ``http.request``; False: it never calls ``receive()`` (a handler that
    ignores the body, as ``sample_apps.io_bound``'s), so none is recorded, as the shim records
    such an app. The WSGI models record no body reads either way."""
    websocket: bool = field(init=False, default=False, repr=False, compare=False)
    """True when a phase is ``ws``: the request is a WebSocket session (scope ``websocket``),
    not an HTTP request. Derived from the phases."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "websocket", any(phase.code == WS for phase in self.phases))

    def sample(self, rng: random.Random) -> tuple[tuple[int, ...], ...]:
        """The phases of one request, durations drawn."""
        return tuple([phase.sample(rng) for phase in self.phases])

    def sampler(self) -> Callable[[random.Random], tuple[tuple[int, ...], ...]]:
        """``sample`` as a closure over the phases' samplers (the hot path)."""
        samplers = tuple(phase.sampler() for phase in self.phases)
        if not samplers:
            return lambda rng: ()
        if len(samplers) == 1:
            (one,) = samplers
            return lambda rng: (one(rng),)
        return lambda rng: tuple([sample(rng) for sample in samplers])


@dataclass(frozen=True, slots=True)
class Workload:
    """A named set of routes."""

    name: str
    """Shown as ``app: "sim:<name>"`` in the recording header."""
    routes: tuple[Route, ...]
    """At least one."""
    source: str = field(default="", compare=False)
    """Where it was read, as messages name it (``workload "lesson.toml"``); empty for one made
    in code (``inline_workload``)."""

    def parts_per_request(self) -> float:
        """How many body chunks and WebSocket messages a request has, on average over the
        routes' weights (0 when no route has a ``send`` or ``ws`` phase)."""
        total = sum(route.weight for route in self.routes)
        parts = sum(
            route.weight * sum(p.chunks for p in route.phases if p.code in (SEND, WS))
            for route in self.routes
        )
        return parts / total


def refuse_websocket(workload: Workload, model: str) -> None:
    """``UsageError`` (one line) when a route of ``workload`` is a WebSocket session, which the
    WSGI model ``model`` cannot serve: WSGI has no WebSocket interface."""
    for number, route in enumerate(workload.routes, 1):
        if route.websocket:
            # Named as the file's other refusals name a route: the file, its number, its name.
            where = workload.source or f'Workload "{workload.name}"'
            named = "" if route.name == str(number) else f' ("{route.name}")'
            raise UsageError(
                f"{where}, route {number}{named} is a WebSocket session "
                f"(a ws phase) and WSGI has no WebSocket, so --model {model} cannot serve it; "
                "simulate it with --model loop, or use a send phase for a long WSGI response."
            )


def inline_workload(
    cpu: Dist | None = None, io: Dist | None = None, blocking_io: Dist | None = None
) -> Workload:
    """The one-route workload of ``--cpu``, ``--io`` and ``--blocking-io``, in that order."""
    phases = []
    if cpu is not None:
        phases.append(Phase(CPU, cpu))
    if io is not None:
        phases.append(Phase(IO, io))
    if blocking_io is not None:
        phases.append(Phase(BLOCKING_IO, blocking_io))
    return Workload("inline", (Route("inline", tuple(phases)),))


def bundled_workloads() -> list[str]:
    """The names ``load_workload`` takes for the workload files that ship in the package
    (``sim/workloads/NAME.toml``), sorted."""
    folder = resources.files("sim").joinpath("workloads")
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml") and entry.is_file()
    )


def _what_to_give() -> str:
    # Names, not the repository's path: outside a checkout only the names reach the files.
    return f"give a TOML file or a bundled workload ({', '.join(bundled_workloads())})"


def load_workload(path: str | os.PathLike[str]) -> Workload:
    """Read a workload TOML file, or the bundled one named ``path`` (``"mixed"``) when no file
    has that name; any problem is a ``UsageError`` naming the file and the spot."""
    name = os.fspath(path)
    if not os.path.lexists(name) and name in bundled_workloads():
        # A file of that name in the working folder wins; the package's copy is read through
        # importlib.resources, so it is found from any folder and any install.
        with resources.as_file(
            resources.files("sim").joinpath("workloads", name + ".toml")
        ) as real:
            return _read_workload(os.fspath(real), shown=name)
    return _read_workload(name, shown=name)


def _read_workload(name: str, *, shown: str) -> Workload:
    """``load_workload`` of the file ``name``, called ``shown`` in messages."""
    data = read_toml(name, noun="Workload", give=_what_to_give(), shown=shown)
    default = os.path.splitext(os.path.basename(shown))[0]
    return workload_from_dict(data, where=f'workload "{shown}"', default_name=default)


_ROUTE_KEYS = {"name", "method", "path", "weight", "bytes", "sync", "reads_body", "phases"}


def workload_from_dict(
    data: dict[str, Any], *, where: str, default_name: str = "workload"
) -> Workload:
    """Validate parsed TOML (``name``, ``[[route]]`` tables) into a ``Workload``."""
    unknown = set(data) - {"name", "description", "route"}
    if unknown:
        key = sorted(unknown)[0]
        # An ASGI app has one, so a workload may be given one: say that none is simulated.
        why = (
            ": the simulator has no lifespan (startup and shutdown), it simulates requests only"
            if key == "lifespan"
            else ""
        )
        raise UsageError(
            f"{where}: unknown top-level key {key!r}{why}; expected name, description, [[route]]."
        )
    description = data.get("description", "")
    if not isinstance(description, str):  # for people reading the file: text, never used
        raise UsageError(f"{where}: description must be a string, not {description!r}.")
    routes_data = data.get("route")
    if isinstance(routes_data, dict):
        # [route] with one bracket: a single table, which TOML does not make a list of.
        raise UsageError(
            f"{where}: route is a single table; write each route as a [[route]] table "
            "(two brackets)."
        )
    if not isinstance(routes_data, list) or not routes_data:
        raise UsageError(f"{where}: no routes; add at least one [[route]] table with phases.")
    routes = []
    for index, item in enumerate(routes_data):
        if not isinstance(item, dict):
            raise UsageError(f"{where}: route {index + 1} is not a table.")
        routes.append(_route(item, f"{where}, route {index + 1}"))
    first: dict[str, int] = {}
    for number, route in enumerate(routes, 1):
        if route.name in first:
            # Names are the routes' locations (sim:<route>:<phase>): two alike could not be told
            # apart in a recording. A name without "name =" is the route's number, so a route
            # named "2" can meet the second route's default.
            raise UsageError(
                f'{where}: routes {first[route.name]} and {number} share the name "{route.name}"; '
                "give each route its own name."
            )
        first[route.name] = number
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name or not name.isprintable():
        raise UsageError(
            f"{where}: name must be a non-empty string without control characters, not {name!r}."
        )
    return Workload(name, tuple(routes), source=where)


def _route(item: dict[str, Any], where: str) -> Route:
    unknown = set(item) - _ROUTE_KEYS
    if unknown:
        raise UsageError(
            f"{where}: unknown key {sorted(unknown)[0]!r}; expected {', '.join(sorted(_ROUTE_KEYS))}."
        )
    name = item.get("name", where.rsplit(" ", 1)[-1])
    if "name" in item:
        # A name with a line break in it must not break the one-line message naming it.
        printable = isinstance(name, str) and name.isprintable()
        where = f'{where} ("{name}")' if printable else f"{where} ({name!r})"
    if not isinstance(name, str) or not name or ":" in name or not name.isprintable():
        raise UsageError(
            f"{where}: name must be a non-empty string without ':' or control characters."
        )
    weight = item.get("weight", 1.0)
    if (
        isinstance(weight, bool)
        or not isinstance(weight, int | float)
        or not 0 < weight <= MAX_WEIGHT
    ):
        raise UsageError(
            f"{where}: weight must be a number above 0 and at most {MAX_WEIGHT:,.0f} "
            f"(weights are relative), not {weight!r}."
        )
    body = item.get("bytes", 13)
    if isinstance(body, bool) or not isinstance(body, int) or not 0 <= body <= MAX_BYTES:
        raise UsageError(
            f"{where}: bytes must be a whole number from 0 to {MAX_BYTES:,} (1 TiB), not {body!r}."
        )
    sync = item.get("sync", False)
    if not isinstance(sync, bool):
        raise UsageError(f"{where}: sync must be true or false.")
    reads_body = item.get("reads_body", True)
    if not isinstance(reads_body, bool):
        raise UsageError(f"{where}: reads_body must be true or false, not {reads_body!r}.")
    for key in ("method", "path"):
        if key in item and not isinstance(item[key], str):
            raise UsageError(f"{where}: {key} must be a string.")
    method, path = item.get("method", "GET"), item.get("path", "/")
    _check_method(method, where)
    _check_path(path, where)
    phases_data = item.get("phases", [])
    if not isinstance(phases_data, list):
        raise UsageError(f'{where}: phases must be a list like [{{cpu = "5ms"}}, {{io = "50ms"}}].')
    if not phases_data:
        # A route without phases takes no time at all: a run of them reports 0 s and 0 rps.
        raise UsageError(f'{where}: no phases; add a list like phases = [{{io = "50ms"}}].')
    phases = tuple(_phase(p, f"{where}, phase {i + 1}") for i, p in enumerate(phases_data))
    if any(phase.code == WS for phase in phases):
        _check_websocket(item, phases, where)
    return Route(
        name=name,
        phases=phases,
        method=method.upper(),
        path=path,
        weight=float(weight),
        bytes=body,
        sync=sync,
        reads_body=reads_body,
    )


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""An HTTP method: a token of RFC 9110's tchar (ASCII letters, digits and these marks)."""
_NOT_IN_PATH = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
"""Whitespace and control characters: a request line cannot carry them unencoded."""


def _check_method(method: str, where: str) -> None:
    if not _TOKEN.fullmatch(method):
        raise UsageError(
            f"{where}: method must be an HTTP token (letters, digits and !#$%&'*+-.^_`|~), "
            f'like "GET" or "PURGE", not {method!r}.'
        )


def _check_path(path: str, where: str) -> None:
    """The path of the request's target (origin form, the query may follow a ``?``); a
    WebSocket session's too. ``*`` (OPTIONS to the server as a whole) is no route's path."""
    if not path.startswith("/"):
        raise UsageError(f'{where}: path must start with "/", like "/users", not {path!r}.')
    if _NOT_IN_PATH.search(path):
        raise UsageError(
            f"{where}: path must not contain whitespace or control characters "
            f"(percent-encode them, like %20), not {path!r}."
        )


def _phase(item: Any, where: str) -> Phase:
    if not isinstance(item, dict) or len(item) != 1:
        raise UsageError(
            f"{where}: a phase is a table with one key of {', '.join(PHASE_NAMES)}, "
            'like {cpu = "5ms"}.'
        )
    ((key, value),) = item.items()
    code = PHASE_NAMES.get(key)
    if code is None:
        raise UsageError(f"{where}: unknown phase {key!r}; use one of {', '.join(PHASE_NAMES)}.")
    if code in (CPU, IO, BLOCKING_IO):
        return Phase(code, parse_dist(value, what=f"{where}: {key}"))
    if not isinstance(value, dict):
        raise UsageError(f"{where}: {key} takes a table, like {_EXAMPLES[code]}.")
    allowed = _KEYS[code]
    unknown = set(value) - allowed
    if unknown:
        raise UsageError(
            f"{where}: unknown {key} key {sorted(unknown)[0]!r}; like {_EXAMPLES[code]}."
        )
    if code == OFFLOAD:
        cpu = parse_dist(value["cpu"], what=f"{where}: offload cpu") if "cpu" in value else None
        io = parse_dist(value["io"], what=f"{where}: offload io") if "io" in value else None
        if cpu is None and io is None:
            raise UsageError(f"{where}: offload needs cpu and/or io, like {_EXAMPLES[code]}.")
        return Phase(OFFLOAD, cpu, io)
    count_key, wait_key = ("chunks", "interval") if code == SEND else ("messages", "reply_after")
    count = value.get(count_key, 1)
    size = value.get("bytes", 0)
    for label, number, low, high in (
        (count_key, count, 1, MAX_PARTS),
        ("bytes", size, 0, MAX_BYTES),
    ):
        if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
            raise UsageError(
                f"{where}: {key} {label} must be a whole number from {low} to {high:,}, "
                f"not {number!r}."
            )
    wait = (
        parse_dist(value[wait_key], what=f"{where}: {key} {wait_key}")
        if wait_key in value
        else None
    )
    return Phase(code, wait, None, count, size)


def _check_websocket(item: dict[str, Any], phases: tuple[Phase, ...], where: str) -> None:
    """A route with a ``ws`` phase is one WebSocket session: what would make no sense there."""
    codes = [phase.code for phase in phases]
    if codes.count(WS) > 1:
        raise UsageError(f"{where}: a route is one WebSocket session; give it one ws phase.")
    if SEND in codes:
        raise UsageError(
            f"{where}: a ws route answers with messages, not an HTTP body; drop the send phase."
        )
    if item.get("sync", False):
        raise UsageError(
            f"{where}: a ws route cannot be sync (a WebSocket endpoint is async def); "
            "drop sync, or use an offload phase for blocking work."
        )
    if "bytes" in item:
        raise UsageError(
            f"{where}: bytes is an HTTP body's size and a ws route has none; "
            "give the message size as ws bytes."
        )
    if "reads_body" in item:
        raise UsageError(
            f"{where}: reads_body is about an HTTP request's body and a ws route has none "
            "(its app receives websocket.connect and the messages); drop reads_body."
        )
    if str(item.get("method", "GET")).upper() != "GET":
        raise UsageError(f"{where}: a WebSocket session opens with GET; drop method.")


_KEYS = {
    OFFLOAD: {"cpu", "io"},
    SEND: {"chunks", "bytes", "interval"},
    WS: {"messages", "bytes", "reply_after"},
}
_EXAMPLES = {
    OFFLOAD: '{offload = {cpu = "20ms", io = "10ms"}}',
    SEND: '{send = {chunks = 4, bytes = 1024, interval = "5ms"}}',
    WS: '{ws = {messages = 10, bytes = 16, reply_after = "50ms"}}',
}

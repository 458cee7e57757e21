"""What simulated requests do: routes, each a weighted sequence of phases.

A phase is ``cpu`` (holds the GIL, and the loop in async models), ``io`` (awaited in async
models, blocking a thread in sync ones), ``blocking-io`` (a blocking wait: holds the loop in
async models, releases the GIL), ``offload`` (cpu then blocking io on the loop's thread pool) or
``send`` (response chunks, with an optional wait between them). Workloads come from the inline
``--cpu/--io/--blocking-io`` options or a TOML file (see ``sim/workloads/``).
Imports only ``tracer.errors`` and ``sim.dist``.
"""

from __future__ import annotations

import math
import os
import random
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sim.dist import Dist, Exponential, Fixed, parse_dist
from tracer.errors import UsageError

__all__ = [
    "CPU",
    "IO",
    "BLOCKING_IO",
    "OFFLOAD",
    "SEND",
    "PHASE_NAMES",
    "Phase",
    "Route",
    "Workload",
    "inline_workload",
    "load_workload",
    "workload_from_dict",
]

# Phase codes: small ints, because the engine dispatches on them for every simulated phase.
CPU, IO, BLOCKING_IO, OFFLOAD, SEND = range(5)
PHASE_NAMES: dict[str, int] = {
    "cpu": CPU,
    "io": IO,
    "blocking-io": BLOCKING_IO,
    "offload": OFFLOAD,
    "send": SEND,
}
_NAME_OF = {code: name for name, code in PHASE_NAMES.items()}


@dataclass(frozen=True, slots=True)
class Phase:
    """One phase of a route's handler."""

    code: int
    """CPU, IO, BLOCKING_IO, OFFLOAD or SEND."""
    dist: Dist | None = None
    """Duration of cpu/io/blocking-io; the CPU part of an offload; the wait between sends."""
    io: Dist | None = None
    """OFFLOAD only: the blocking wait the pool thread does after its CPU part."""
    chunks: int = 1
    """SEND only: how many body chunks."""
    bytes: int = 0
    """SEND only: bytes per chunk."""

    @property
    def name(self) -> str:
        """The spelling used in workload files and locations."""
        return _NAME_OF[self.code]

    def sample(self, rng: random.Random) -> tuple[int, ...]:
        """Draw this phase's durations: ``(code, a, b)`` with ns (SEND: chunks, bytes, gap)."""
        if self.code == OFFLOAD:
            cpu = self.dist.sample(rng) if self.dist is not None else 0
            io = self.io.sample(rng) if self.io is not None else 0
            return (OFFLOAD, cpu, io)
        if self.code == SEND:
            gap = self.dist.sample(rng) if self.dist is not None else 0
            return (SEND, self.chunks, self.bytes, gap)
        assert self.dist is not None  # built by workload_from_dict, which always sets it
        return (self.code, self.dist.sample(rng))

    def sampler(self) -> Callable[[random.Random], tuple[int, ...]]:
        """``sample`` as a closure, specialised for the common distributions (the hot path).

        Draws exactly what ``sample`` draws, in the same order, so both give the same numbers.
        """
        code, dist = self.code, self.dist
        if code in (OFFLOAD, SEND):
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


def load_workload(path: str | os.PathLike[str]) -> Workload:
    """Read a workload TOML file; any problem is a ``UsageError`` naming the file and the spot."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise UsageError(f'Workload file "{name}" does not exist.') from None
    except IsADirectoryError:
        raise UsageError(f'Workload "{name}" is a folder, not a TOML file.') from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f'Workload file "{name}" is not valid TOML: {exc}.') from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f'Workload file "{name}" cannot be read ({type(exc).__name__}).') from None
    default = os.path.splitext(os.path.basename(name))[0]
    return workload_from_dict(data, where=f'workload "{name}"', default_name=default)


_ROUTE_KEYS = {"name", "method", "path", "weight", "bytes", "sync", "phases"}


def workload_from_dict(
    data: dict[str, Any], *, where: str, default_name: str = "workload"
) -> Workload:
    """Validate parsed TOML (``name``, ``[[route]]`` tables) into a ``Workload``."""
    unknown = set(data) - {"name", "description", "route"}
    if unknown:
        raise UsageError(
            f"{where}: unknown top-level key {sorted(unknown)[0]!r}; expected name, description, [[route]]."
        )
    routes_data = data.get("route")
    if not isinstance(routes_data, list) or not routes_data:
        raise UsageError(f"{where}: no routes; add at least one [[route]] table with phases.")
    routes = []
    for index, item in enumerate(routes_data):
        if not isinstance(item, dict):
            raise UsageError(f"{where}: route {index + 1} is not a table.")
        routes.append(_route(item, f"{where}, route {index + 1}"))
    names = [route.name for route in routes]
    if len(set(names)) != len(names):
        raise UsageError(f"{where}: two routes share a name; give each route its own name.")
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name:
        raise UsageError(f"{where}: name must be a non-empty string.")
    return Workload(name, tuple(routes))


def _route(item: dict[str, Any], where: str) -> Route:
    unknown = set(item) - _ROUTE_KEYS
    if unknown:
        raise UsageError(
            f"{where}: unknown key {sorted(unknown)[0]!r}; expected {', '.join(sorted(_ROUTE_KEYS))}."
        )
    name = item.get("name", where.rsplit(" ", 1)[-1])
    where = f'{where} ("{name}")' if "name" in item else where
    if not isinstance(name, str) or not name or ":" in name:
        raise UsageError(f"{where}: name must be a non-empty string without ':'.")
    weight = item.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight > 0:
        raise UsageError(f"{where}: weight must be a number above 0, not {weight!r}.")
    body = item.get("bytes", 13)
    if isinstance(body, bool) or not isinstance(body, int) or body < 0:
        raise UsageError(f"{where}: bytes must be a whole number of 0 or more, not {body!r}.")
    sync = item.get("sync", False)
    if not isinstance(sync, bool):
        raise UsageError(f"{where}: sync must be true or false.")
    for key in ("method", "path"):
        if key in item and not isinstance(item[key], str):
            raise UsageError(f"{where}: {key} must be a string.")
    phases_data = item.get("phases", [])
    if not isinstance(phases_data, list):
        raise UsageError(f'{where}: phases must be a list like [{{cpu = "5ms"}}, {{io = "50ms"}}].')
    if not phases_data:
        # A route without phases takes no time at all: a run of them reports 0 s and 0 rps.
        raise UsageError(f'{where}: no phases; add a list like phases = [{{io = "50ms"}}].')
    phases = tuple(_phase(p, f"{where}, phase {i + 1}") for i, p in enumerate(phases_data))
    return Route(
        name=name,
        phases=phases,
        method=item.get("method", "GET").upper(),
        path=item.get("path", "/"),
        weight=float(weight),
        bytes=body,
        sync=sync,
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
    allowed = {"cpu", "io"} if code == OFFLOAD else {"chunks", "bytes", "interval"}
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
    chunks = value.get("chunks", 1)
    size = value.get("bytes", 0)
    for label, number, low in (("chunks", chunks, 1), ("bytes", size, 0)):
        if isinstance(number, bool) or not isinstance(number, int) or number < low:
            raise UsageError(f"{where}: send {label} must be a whole number of {low} or more.")
    interval = (
        parse_dist(value["interval"], what=f"{where}: send interval")
        if "interval" in value
        else None
    )
    return Phase(SEND, interval, None, chunks, size)


_EXAMPLES = {
    OFFLOAD: '{offload = {cpu = "20ms", io = "10ms"}}',
    SEND: '{send = {chunks = 4, bytes = 1024, interval = "5ms"}}',
}

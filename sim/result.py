"""What a simulation reports: per-request times gathered as requests end, and the summary.

The summary has exactly the shape and rules of ``tracer.summary.summarize`` (DESIGN.md), but is
computed from lists of integers instead of from events, so the stats-only path never builds
an event. One difference: requests that all ended at the instant the first arrived (zero-time
work) have ``rps`` None, not 0.0: they took no time, so they have no rate.
Imports only ``tracer.summary`` and ``sim`` modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.arrivals import Request
from sim.config import SimConfig
from tracer.summary import (
    LATENCY_KEYS,
    QUEUE_KEYS,
    offered_s,
    peak_in_flight,
    rate_figure,
    stats_ms,
)

__all__ = ["Stats", "SimResult"]

NS_PER_MS = 1_000_000


class Stats:
    """Arrival, start and end time of every finished request, and the order in which the
    starts and ends happened (at one instant, the time does not tell)."""

    __slots__ = ("queued", "started", "ended", "start_order", "end_order", "blocked_ns")

    def __init__(self) -> None:
        self.queued: list[int] = []
        self.started: list[int] = []
        self.ended: list[int] = []
        self.start_order: list[int] = []
        self.end_order: list[int] = []
        self.blocked_ns = 0
        """Total duration of ``loop.blocked`` steps."""

    def add(self, req: Request) -> None:
        """Count one finished request."""
        self.queued.append(req.queued)
        self.started.append(req.started)
        self.ended.append(req.ended)
        self.start_order.append(req.start_order)
        self.end_order.append(req.end_order)

    def summary(self, load: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The DESIGN.md summary dict, in simulated time; ``load`` is the recording header's
        (an open loop's throughput is taken over the time its arrivals were offered in)."""
        completed = len(self.ended)
        wall_ns = (max(self.ended) - min(self.queued)) if completed else 0
        wall_s = wall_ns / 1e9
        latencies = [e - q for q, e in zip(self.queued, self.ended, strict=True)]
        queues = [s - q for q, s in zip(self.queued, self.started, strict=True)]
        return {
            "requests": completed,
            "completed": completed,
            "errors": 0,
            "wall_s": round(wall_s, 3),
            "rps": _rps(completed, max(wall_s, offered_s(load, completed))),
            "latency_ms": stats_ms(latencies, LATENCY_KEYS),
            "queue_ms": stats_ms(queues, QUEUE_KEYS),
            "status": {"200": completed} if completed else {},
            # In the order things happened: time never runs backwards along it, and at one
            # instant it is the order of the events a recording gets.
            "max_in_flight": peak_in_flight(self.start_order, self.end_order),
            "loop_blocked_ms": round(self.blocked_ns / NS_PER_MS, 3),
            "violations": 0,
        }


def _rps(completed: int, wall_s: float) -> float | None:
    """Completed requests per second of simulated time (``wall_s``: the run's, or the time an
    open loop's arrivals were offered in); None when they took no time at all (zero-time work:
    every request ended the instant the first arrived), which is no rate. Rounded as the
    summary of its recording rounds it (``rate_figure``: 0.149 a second, not 0.1)."""
    if wall_s > 0:
        return rate_figure(completed / wall_s)
    return None if completed else 0.0


@dataclass(frozen=True, slots=True)
class SimResult:
    """The outcome of ``simulate``."""

    config: SimConfig
    """What was simulated."""
    summary: dict[str, Any]
    """The DESIGN.md summary, in simulated time."""
    header: dict[str, Any]
    """The recording header (also when nothing was recorded)."""
    sim_ns: int
    """Simulated time at the end."""
    engine_steps: int
    """Callbacks the engine ran."""
    events: int = 0
    """Events emitted into the recorder (0 when stats only)."""
    max_queue: int = 0
    """The longest the model's wait queue got (worker FIFO or loop ready queue)."""
    gil_switches: int = 0
    """Forced GIL switches, over all processes."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Model-specific figures (thread pool size reached, ...)."""
    stats: Stats | None = None
    """Per-request arrival, start and end times (ns), in the order requests ended."""

"""What a simulation reports: per-request times gathered as requests end, and the summary.

The summary has exactly the shape and rules of ``tracer.summary.summarize`` (DESIGN.md), but is
computed from three integer lists instead of from events, so the stats-only path never builds
an event. One difference: requests that all ended at the instant the first arrived (zero-time
work) have ``rps`` None, not 0.0: they took no time, so they have no rate.
Imports only ``tracer.summary`` and ``sim`` modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim.arrivals import Request
from sim.config import SimConfig
from tracer.summary import LATENCY_KEYS, QUEUE_KEYS, peak_in_flight, stats_ms

__all__ = ["Stats", "SimResult"]

NS_PER_MS = 1_000_000


class Stats:
    """Arrival, start and end time of every finished request."""

    __slots__ = ("queued", "started", "ended", "blocked_ns")

    def __init__(self) -> None:
        self.queued: list[int] = []
        self.started: list[int] = []
        self.ended: list[int] = []
        self.blocked_ns = 0
        """Total duration of ``loop.blocked`` steps."""

    def add(self, req: Request) -> None:
        """Count one finished request."""
        self.queued.append(req.queued)
        self.started.append(req.started)
        self.ended.append(req.ended)

    def summary(self) -> dict[str, Any]:
        """The DESIGN.md summary dict, in simulated time."""
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
            "rps": _rps(completed, wall_s),
            "latency_ms": stats_ms(latencies, LATENCY_KEYS),
            "queue_ms": stats_ms(queues, QUEUE_KEYS),
            "status": {"200": completed} if completed else {},
            "max_in_flight": peak_in_flight(self.started, self.ended),
            "loop_blocked_ms": round(self.blocked_ns / NS_PER_MS, 3),
            "violations": 0,
        }


def _rps(completed: int, wall_s: float) -> float | None:
    """Completed requests per second of simulated time; None when they took no time at all
    (zero-time work: every request ended the instant the first arrived), which is no rate."""
    if wall_s > 0:
        return round(completed / wall_s, 1)
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

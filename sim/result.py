"""What a simulation reports: per-request times gathered as requests end, and the summary.

The summary has exactly the shape and rules of ``tracer.summary.summarize`` (DESIGN.md), but is
computed from three integer lists instead of from events, so the stats-only path never builds
an event. Imports only ``tracer.summary`` and ``sim`` modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim.arrivals import Request
from sim.config import SimConfig
from tracer.summary import percentile

__all__ = ["Stats", "SimResult"]

NS_PER_MS = 1_000_000
LATENCY_KEYS = ("mean", "p50", "p90", "p95", "p99", "p99.9", "max")
QUEUE_KEYS = ("mean", "p50", "p99", "max")


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
        latencies = sorted(e - q for q, e in zip(self.queued, self.ended, strict=True))
        queues = sorted(s - q for q, s in zip(self.queued, self.started, strict=True))
        return {
            "requests": completed,
            "completed": completed,
            "errors": 0,
            "wall_s": round(wall_s, 3),
            "rps": round(completed / wall_s, 1) if wall_s > 0 else 0.0,
            "latency_ms": _stats_ms(latencies, LATENCY_KEYS),
            "queue_ms": _stats_ms(queues, QUEUE_KEYS),
            "status": {"200": completed} if completed else {},
            "max_in_flight": self._max_in_flight(),
            "loop_blocked_ms": round(self.blocked_ns / NS_PER_MS, 3),
            "violations": 0,
        }

    def _max_in_flight(self) -> int:
        # Ends sort before starts at the same instant, as in tracer.summary: back to back is not overlap.
        edges = [(t, 1) for t in self.started]
        edges.extend((t, -1) for t in self.ended)
        edges.sort()
        current = best = 0
        for _, delta in edges:
            current += delta
            if current > best:
                best = current
        return best


def _stats_ms(sorted_ns: list[int], keys: tuple[str, ...]) -> dict[str, float]:
    values = [v / NS_PER_MS for v in sorted_ns]
    out: dict[str, float] = {}
    for key in keys:
        if key == "mean":
            out[key] = round(sum(values) / len(values), 3) if values else 0.0
        elif key == "max":
            out[key] = round(values[-1], 3) if values else 0.0
        else:
            out[key] = round(percentile(values, float(key[1:])), 3)
    return out


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

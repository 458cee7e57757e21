"""The discrete-event engine: a heap of ``(t, seq, fn, arg)`` and a virtual clock in integer ns.

Hand-rolled rather than SimPy: a callback heap of plain tuples runs several times faster than
SimPy's process/generator machinery at 100,000+ requests (bench/sim_speed.py measures both).
Ties in time run in the order they were scheduled, which makes a run fully deterministic.
Nothing is scheduled past ``MAX_DURATION_NS`` (2^63-1 ns, about 292 years): recordings keep
time in signed 64-bit nanoseconds, and every duration is checked but not their sum, so the
clock itself is (one comparison per event; ``ClockOverflow`` stops the run).
Imports only ``sim.dist`` and ``tracer.errors``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

from sim.dist import MAX_DURATION_NS
from tracer.errors import UsageError

__all__ = ["Engine", "Callback", "ClockOverflow"]

_NS_PER_YEAR = 365.25 * 24 * 3600 * 1e9

Callback = Callable[[Any], object]
"""What the engine calls when an instant comes: ``fn(arg)``."""


class ClockOverflow(UsageError):
    """An event would fall due past ``MAX_DURATION_NS``: the run cannot go on (exit code 2)."""

    def __init__(self, t: int) -> None:
        super().__init__(
            f"The simulated time would pass about 292 years (2^63-1 ns, the longest duration): "
            f"an event fell due at about {t / _NS_PER_YEAR:,.0f} years, so the simulation "
            "stopped there; give shorter durations or fewer requests."
        )
        self.t = t
        """When the event would have been due, in ns."""


class Engine:
    """Virtual time and the agenda of things to happen."""

    __slots__ = ("now", "_heap", "_seq", "steps", "order")

    def __init__(self) -> None:
        self.now: int = 0
        """The current virtual time, ns since the start of the simulation."""
        self._heap: list[tuple[int, int, Callback, Any]] = []
        self._seq = itertools.count()
        self.steps: int = 0
        """How many callbacks have run (for benchmarks)."""
        self.order = itertools.count()
        """Numbers in the order things happen, for models to stamp instants with (several
        happen within one callback, so the time does not order them)."""

    def at(self, t: int, fn: Callback, arg: Any = None) -> None:
        """Call ``fn(arg)`` at virtual time ``t`` (not before now); ``ClockOverflow`` past
        ``MAX_DURATION_NS``."""
        if t > MAX_DURATION_NS:
            raise ClockOverflow(t)
        heappush(self._heap, (t if t > self.now else self.now, next(self._seq), fn, arg))

    def after(self, delay: int, fn: Callback, arg: Any = None) -> None:
        """Call ``fn(arg)`` ``delay`` ns from now; ``ClockOverflow`` past ``MAX_DURATION_NS``."""
        t = self.now + delay
        if t > MAX_DURATION_NS:
            raise ClockOverflow(t)
        heappush(self._heap, (t, next(self._seq), fn, arg))

    def run(self, until: int | None = None) -> int:
        """Run callbacks in time order until none is left (or the next is after ``until``)."""
        heap = self._heap
        steps = 0
        try:
            if until is None:
                while heap:
                    t, _, fn, arg = heappop(heap)
                    self.now = t
                    steps += 1
                    fn(arg)
            else:
                while heap:
                    if heap[0][0] > until:
                        self.now = until
                        break
                    t, _, fn, arg = heappop(heap)
                    self.now = t
                    steps += 1
                    fn(arg)
        finally:
            self.steps += steps
        return self.now

    def pending(self) -> int:
        """How many callbacks are scheduled."""
        return len(self._heap)

"""The discrete-event engine: a heap of ``(t, seq, fn, arg)`` and a virtual clock in integer ns.

Hand-rolled rather than SimPy: a callback heap of plain tuples runs several times faster than
SimPy's process/generator machinery at 100,000+ requests (bench/sim_speed.py measures both).
Ties in time run in the order they were scheduled, which makes a run fully deterministic.
Nothing is scheduled past ``MAX_DURATION_NS`` (2^63-1 ns, about 292 years): recordings keep
time in signed 64-bit nanoseconds, and every duration is checked but not their sum, so the
clock itself is (one comparison per event; ``ClockOverflow`` stops the run).
A scheduled call can be cancelled (``at`` and ``after`` return its handle): it then never
runs, and cancelled entries are swept out of the heap once they are half of it, so a model
that keeps rescheduling one timer (a GIL holder pre-empted every switch interval) holds memory
for what is pending, not for every timer it ever set.
Imports only ``sim.dist`` and ``tracer.errors``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection
from heapq import heapify, heappop, heappush
from typing import Any

from sim.dist import MAX_DURATION_NS
from tracer.errors import UsageError

__all__ = ["Engine", "Callback", "ClockOverflow", "Handle"]

_NS_PER_YEAR = 365.25 * 24 * 3600 * 1e9

Callback = Callable[[Any], object]
"""What the engine calls when an instant comes: ``fn(arg)``."""
Handle = int
"""A scheduled call, for ``Engine.cancel`` (its place in the scheduling order)."""

_SWEEP_MIN = 64
"""Cancelled entries below this many are left in the heap: sweeping a small heap gains nothing."""


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

    __slots__ = ("now", "_heap", "_seq", "_cancelled", "_until", "steps", "order")

    def __init__(self) -> None:
        self.now: int = 0
        """The current virtual time, ns since the start of the simulation."""
        self._heap: list[tuple[int, int, Callback, Any]] = []
        self._seq = itertools.count()
        # Handles of cancelled entries still in the heap: skipped when popped, swept in bulk.
        self._cancelled: set[int] = set()
        self._until: int | None = None
        self.steps: int = 0
        """How many callbacks have run (for benchmarks)."""
        self.order = itertools.count()
        """Numbers in the order things happen, for models to stamp instants with (several
        happen within one callback, so the time does not order them)."""

    def at(self, t: int, fn: Callback, arg: Any = None) -> Handle:
        """Call ``fn(arg)`` at virtual time ``t`` (not before now); ``ClockOverflow`` past
        ``MAX_DURATION_NS``. Returns a handle for ``cancel``."""
        if t > MAX_DURATION_NS:
            raise ClockOverflow(t)
        seq = next(self._seq)
        heappush(self._heap, (t if t > self.now else self.now, seq, fn, arg))
        return seq

    def after(self, delay: int, fn: Callback, arg: Any = None) -> Handle:
        """Call ``fn(arg)`` ``delay`` ns from now; ``ClockOverflow`` past ``MAX_DURATION_NS``.
        Returns a handle for ``cancel``."""
        t = self.now + delay
        if t > MAX_DURATION_NS:
            raise ClockOverflow(t)
        seq = next(self._seq)
        heappush(self._heap, (t, seq, fn, arg))
        return seq

    def cancel(self, handle: Handle) -> None:
        """Never make the call ``handle`` names; it must still be pending (not yet run nor
        cancelled). The others keep their order: handles are not reused."""
        cancelled = self._cancelled
        cancelled.add(handle)
        if len(cancelled) >= _SWEEP_MIN and 2 * len(cancelled) > len(self._heap):
            # Rebuilding costs one pass over the heap, paid for by the cancels since the last
            # one (at least half of it): O(1) a cancel, and the heap at most twice what is due.
            heap = self._heap  # in place: ``run`` holds this list
            heap[:] = [entry for entry in heap if entry[1] not in cancelled]
            heapify(heap)
            cancelled.clear()

    def horizon(self, ignore: Collection[Handle] = ()) -> int | None:
        """The earliest time at which a pending call runs (or, under ``run(until)``, the first
        instant past ``until``); None when nothing is pending. A model may settle on its own
        what would happen strictly before it, since nothing else can happen in between.
        ``ignore``: the model's own pending calls, which it settles too, left out."""
        heap, cancelled = self._heap, self._cancelled
        set_aside = []
        while heap and (heap[0][1] in cancelled or heap[0][1] in ignore):
            entry = heappop(heap)
            if entry[1] in cancelled:
                cancelled.discard(entry[1])
            else:
                set_aside.append(entry)
        due = heap[0][0] if heap else None
        for entry in set_aside:  # the same (t, seq) entries: the order is unchanged
            heappush(heap, entry)
        if self._until is not None and (due is None or due > self._until):
            return self._until + 1
        return due

    def run(self, until: int | None = None) -> int:
        """Run callbacks in time order until none is left (or the next is after ``until``)."""
        heap = self._heap
        steps = 0
        cancelled = self._cancelled
        self._until = until
        try:
            if until is None:
                while heap:
                    t, seq, fn, arg = heappop(heap)
                    if cancelled and seq in cancelled:
                        cancelled.discard(seq)
                        continue
                    self.now = t
                    steps += 1
                    fn(arg)
            else:
                while heap:
                    if heap[0][0] > until:
                        self.now = until
                        break
                    t, seq, fn, arg = heappop(heap)
                    if cancelled and seq in cancelled:
                        cancelled.discard(seq)
                        continue
                    self.now = t
                    steps += 1
                    fn(arg)
        finally:
            self.steps += steps
            self._until = None
        return self.now

    def pending(self) -> int:
        """How many callbacks are scheduled (cancelled ones not counted)."""
        return len(self._heap) - len(self._cancelled)

    def held(self) -> int:
        """How many entries the heap holds, cancelled ones not yet swept out included: what
        the agenda costs in memory (at most twice ``pending()``, give or take a few dozen)."""
        return len(self._heap)

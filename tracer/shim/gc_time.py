"""Garbage collections timed per thread, for ``loop.blocked``'s ``gc_ns``.

A cyclic collection runs on whichever thread allocates past the collector's threshold, and
the step it runs in lasts that much longer. While the blocking watchdog runs
(``tracer.shim.blocking``), a ``gc.callbacks`` hook notes when each collection on a loop
thread starts and stops, in a small ring per thread (``Collections``); a step that ended
blocked asks its ring how much of it went to collecting. Only the threads handed to
``track`` are timed: the hook returns at once on any other. Imports nothing of ours.
"""

from __future__ import annotations

import gc
import threading
import time
from typing import Any

__all__ = ["Collections", "track", "install", "uninstall", "of_thread"]


class Collections:
    """The latest garbage collections run on one loop thread: a ring of their (start, stop)
    times (``time.monotonic_ns``), written by the ``gc.callbacks`` hook (``_on_gc``) on that
    thread."""

    __slots__ = ("began", "starts", "stops", "count")

    SIZE = 64
    """Collections kept: a step that ran more (a long step allocating all along) has its
    oldest left out, so ``collecting_ns`` is a bound from below."""

    SHORTEST_NS = 100_000
    """Collections shorter than this (0.1 ms) are not kept: most collections are of the young
    generation, some hundred objects walked in some µs each, and a step allocating for long
    would fill the ring with them, pushing out the long one that made it block (a block lasts
    1 ms at least)."""

    def __init__(self) -> None:
        self.began = 0
        """When the collection under way began (the "start" phase); 0 when none is."""
        self.starts = [0] * self.SIZE
        self.stops = [0] * self.SIZE
        self.count = 0
        """Collections kept so far; the latest is at ``(count - 1) % SIZE``."""

    def ended(self, stop: int) -> None:
        """The collection that began at ``began`` ended at ``stop``."""
        began, self.began = self.began, 0
        # No start seen: the hook was installed while this collection ran.
        if not began or stop - began < self.SHORTEST_NS:
            return
        i = self.count % self.SIZE
        self.starts[i] = began
        self.stops[i] = stop
        self.count += 1

    def within(self, t0: int, t1: int) -> int:
        """ns spent collecting between ``t0`` and ``t1`` (``time.monotonic_ns``), at least."""
        count = self.count  # the hook may add one meanwhile (an allocation here can collect)
        total = 0
        for n in range(count - 1, max(count - self.SIZE, 0) - 1, -1):
            i = n % self.SIZE
            start, stop = self.starts[i], self.stops[i]
            if stop <= t0:  # one thread's collections end in order: the rest are older
                break
            total += max(0, min(stop, t1) - max(start, t0))
        return total


# The loop threads' rings, by ``threading.get_ident``: what the hook looks up. Replaced whole
# (``track``, under the watchdog's lock), never changed in place, so the hook reads it unlocked.
_RINGS: dict[int, Collections] = {}


def of_thread(tid: int) -> Collections:
    """The ring of thread ``tid``: the one timed now, or a new one (one ring per thread,
    whichever of its loops ran the collections)."""
    return _RINGS.get(tid) or Collections()


def track(rings: dict[int, Collections]) -> None:
    """Time the collections of these threads, and of no other: the threads of loops gone
    leave nothing behind."""
    global _RINGS
    _RINGS = rings


def install() -> None:
    """Put the hook in ``gc.callbacks`` (once)."""
    if _on_gc not in gc.callbacks:
        gc.callbacks.append(_on_gc)


def uninstall() -> None:
    """Stop timing: no ring is written, and the hook goes, so that no collection of the
    process calls it."""
    global _RINGS
    _RINGS = {}
    try:
        gc.callbacks.remove(_on_gc)
    except ValueError:  # someone else took it out of the list
        pass


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    """The ``gc.callbacks`` hook: note when a collection on a timed thread starts and stops.

    Called on the thread that collects, so a thread's ring is only ever written by that thread
    (the interpreter runs one collection at a time); any other thread returns at once.
    """
    times = _RINGS.get(threading.get_ident())
    if times is not None:
        if phase == "start":
            times.began = time.monotonic_ns()
        else:
            times.ended(time.monotonic_ns())

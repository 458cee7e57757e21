"""The simulated machine's cores: at most N threads, over all processes, execute CPU at once.

Only a thread holding its process's GIL executes Python, so the threads that compete for cores
are the GIL holders, at most one per process; threads waiting for a GIL, for I/O or in a
blocking call sleep and need no core. ``SimConfig.cpus`` of None (the default) means unlimited
cores, in effect one per process: every ``Gil`` then runs its bursts straight on the engine and
``Cores`` is not used at all, which keeps every run as it was before cores were modelled.

The cores are shared by processor sharing: with k runnable bursts on N cores, each progresses at
min(1, N/k) ns of CPU per ns. Linux's scheduler (CFS) is built to approximate exactly that
"ideal, precise multi-tasking CPU" (sched-design-CFS.rst), slicing each core among its tasks in
slices of a few ms. Round-robin slices would only add an engine event per slice per core (and a
quantum to pick, which CFS varies with the load) without changing what a request's time shows:
its ``dur`` grows by the time it waited for a core. The GIL is different: a waiting thread
really is held back a whole switch interval, which is what ``sim.gil`` keeps discrete.
Imports only ``sim.engine``.
"""

from __future__ import annotations

import math
from typing import Any

from sim.engine import Callback, Engine, Handle

__all__ = ["Cores", "Burst", "MAX_CPUS"]

MAX_CPUS = 8192
"""The most cores ``--cpus`` accepts: Linux's largest ``NR_CPUS`` (``CONFIG_MAXSMP``)."""

_DONE = 1e-6
"""CPU ns left below which a burst is done: progress is kept in floats (N/k is rarely whole)."""


class Burst:
    """One thread's CPU burst on the cores: what it still needs, and whom to call when done."""

    __slots__ = ("left", "fn", "arg")

    def __init__(self, left: float, fn: Callback, arg: Any) -> None:
        self.left = left
        """CPU ns still to execute (as of the last settling)."""
        self.fn = fn
        self.arg = arg


class Cores:
    """N cores shared equally by the bursts on them (processor sharing)."""

    __slots__ = (
        "engine",
        "count",
        "running",
        "gils",
        "settle_after",
        "settle_misses",
        "_since",
        "_timer",
    )

    def __init__(self, engine: Engine, count: int) -> None:
        self.engine = engine
        self.count = count
        """How many cores."""
        self.running: list[Burst] = []
        """The bursts on the cores, oldest first (ties end in this order)."""
        self.gils: list[Any] = []
        """The GILs (``sim.gil.Gil``) whose holders run here: every burst is one's holder's."""
        self.settle_after = 0
        """When ``sim.shared_turns`` may next try to settle turns on these cores (it waits a
        while after a try that could not)."""
        self.settle_misses = 0
        """Tries in a row that could not settle anything (``sim.shared_turns``)."""
        self._since = 0
        self._timer: Handle | None = None

    def run(self, cpu_ns: int, fn: Callback, arg: Any) -> Burst:
        """Execute ``cpu_ns`` of CPU on a share of the cores, then call ``fn(arg)``."""
        self._settle()
        burst = Burst(cpu_ns, fn, arg)
        self.running.append(burst)
        self._schedule()
        return burst

    def left(self, burst: Burst) -> int:
        """CPU ns ``burst`` still needs now (0: it ends at this instant)."""
        self._settle()
        return max(0, math.ceil(burst.left - _DONE))

    def stop(self, burst: Burst) -> None:
        """Take ``burst`` off the cores unfinished (its thread lost the GIL); ``fn`` is not called."""
        self._settle()
        self.running.remove(burst)
        self._schedule()

    def _rate(self) -> float:
        # CPU ns each runnable burst gets per ns of wall time.
        runnable = len(self.running)
        return 1.0 if runnable <= self.count else self.count / runnable

    def _settle(self) -> None:
        # Bring every burst's ``left`` up to now, at the share it had since the last change.
        now = self.engine.now
        if now != self._since and self.running:
            done = (now - self._since) * self._rate()
            for burst in self.running:
                burst.left -= done
        self._since = now

    def _schedule(self, since: int | None = None) -> None:
        # One engine event: when the shortest burst ends at the current share. Any change to
        # the runnable set cancels it and schedules another (a GIL switch is two changes, so
        # leaving stale ones in the agenda would keep two entries per switch). ``since``: the
        # instant the bursts' ``left`` is as of, when turns were settled up to a later one.
        if self._timer is not None:
            self.engine.cancel(self._timer)
            self._timer = None
        if self.running:
            shortest = min(burst.left for burst in self.running)
            delay = math.ceil(max(0.0, shortest - _DONE) / self._rate())
            start = self.engine.now if since is None else since
            self._timer = self.engine.at(start + delay, self._finish)

    def _finish(self, _: object) -> None:
        self._timer = None  # this is it: nothing to cancel
        self._settle()
        finished = [burst for burst in self.running if burst.left <= _DONE]
        self.running = [burst for burst in self.running if burst.left > _DONE]
        self._schedule()
        for burst in finished:
            burst.fn(burst.arg)

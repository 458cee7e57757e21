"""The GIL of one simulated process: CPU phases of its threads never overlap.

As CPython does it: a thread that wants the GIL while another holds it waits one switch
interval (5 ms by default, ``sys.getswitchinterval()``), then asks the holder to drop it; the
holder goes to the back of the line. Waiters are served in order (round robin), which is what
CPython's forced switching approximates. I/O and blocking waits release the GIL, so only CPU
phases come here. Each process has its own ``Gil``. With ``Cores`` (``--cpus``) the holder's
burst also needs a core, shared with the holders of the other processes' GILs, so it may
progress slower than wall time; the switch interval stays wall time, as CPython's timed wait is.
Imports only ``sim.engine`` and ``sim.cores``.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from sim.cores import Burst, Cores
from sim.engine import Callback, Engine

__all__ = ["Gil", "SWITCH_INTERVAL_NS"]

SWITCH_INTERVAL_NS = 5_000_000
"""CPython's default ``sys.getswitchinterval()`` (0.005 s)."""


class _Job:
    __slots__ = ("remaining", "fn", "arg", "since")

    def __init__(self, remaining: int, fn: Callback, arg: Any) -> None:
        self.remaining = remaining
        self.fn = fn
        self.arg = arg
        self.since = 0


class Gil:
    """Serialises CPU bursts of the threads of one process, with forced switches."""

    __slots__ = (
        "engine",
        "interval",
        "cores",
        "holder",
        "waiters",
        "_grant_id",
        "_drop_asked",
        "_burst",
        "switches",
    )

    def __init__(
        self, engine: Engine, *, interval: int = SWITCH_INTERVAL_NS, cores: Cores | None = None
    ) -> None:
        self.engine = engine
        self.interval = interval
        """The switch interval in ns."""
        self.cores = cores
        """The machine's cores, shared with other processes; None: a core always free."""
        self._burst: Burst | None = None
        self.holder: _Job | None = None
        self.waiters: deque[_Job] = deque()
        self._grant_id = 0
        self._drop_asked = False
        self.switches = 0
        """How many forced switches happened (a thread was made to drop the GIL)."""

    def run(self, cpu_ns: int, fn: Callback, arg: Any) -> None:
        """Spend ``cpu_ns`` of CPU holding the GIL, then call ``fn(arg)``."""
        job = _Job(cpu_ns, fn, arg)
        if self.holder is None:
            self._grant(job)
            return
        self.waiters.append(job)
        if not self._drop_asked:
            self._drop_asked = True
            self.engine.after(self.interval, self._drop, self._grant_id)

    def _grant(self, job: _Job) -> None:
        engine = self.engine
        self._grant_id += 1
        self.holder = job
        job.since = engine.now
        if self.cores is None:
            engine.at(engine.now + job.remaining, self._finish, self._grant_id)
        else:
            self._burst = self.cores.run(job.remaining, self._finish, self._grant_id)
        if self.waiters:
            self._drop_asked = True
            engine.after(self.interval, self._drop, self._grant_id)
        else:
            self._drop_asked = False

    def _finish(self, grant_id: int) -> None:
        if grant_id != self._grant_id:
            return  # this grant was pre-empted; its job finishes under a later grant
        job = self.holder
        assert job is not None
        self.holder = None
        self._grant_id += 1
        if self.waiters:
            self._grant(self.waiters.popleft())
        job.fn(job.arg)

    def _drop(self, grant_id: int) -> None:
        if grant_id != self._grant_id or not self.waiters:
            return  # the holder already let go, or nobody is waiting any more
        job = self.holder
        assert job is not None
        if self.cores is None:
            job.remaining -= self.engine.now - job.since
            if job.remaining <= 0:
                return  # it finishes at this very instant anyway
        else:  # it ran at its share of the cores, not necessarily a whole one
            burst = self._burst
            assert burst is not None
            job.remaining = self.cores.left(burst)
            if job.remaining <= 0:
                return
            self.cores.stop(burst)
        self.switches += 1
        self.waiters.append(job)
        self._grant(self.waiters.popleft())

"""The GIL of one simulated process: CPU phases of its threads never overlap.

As CPython does it: a thread that wants the GIL while another holds it waits one switch
interval (5 ms by default, ``sys.getswitchinterval()``), then asks the holder to drop it; the
holder goes to the back of the line. Waiters are served in order (round robin), which is what
CPython's forced switching approximates. I/O and blocking waits release the GIL, so only CPU
phases come here. Each process has its own ``Gil``. With ``Cores`` (``--cpus``) the holder's
burst also needs a core, shared with the holders of the other processes' GILs, so it may
progress slower than wall time; the switch interval stays wall time, as CPython's timed wait is.

A pre-empted holder's end is cancelled on the engine, so the agenda holds two entries per
contended GIL, not one per switch. And when k threads only take turns (every burst longer than
the rounds ahead, nothing else due on the engine before they end, and the holder on a core of
its own: unlimited cores, or no more GIL holders than ``--cpus``), the rounds are settled at
once: each thread loses the same CPU per round, so their state after m rounds is arithmetic,
and the switch count stays exact. A recording has no event per switch, so it is the same
either way; an hour of CPU shared by two threads is a few engine steps instead of 720,000.
When holders share cores (more processes computing than cores) a turn's CPU depends on the
other processes' switches, and other processes' switches are due before the rounds end: then
``sim.shared_turns`` moves every process on the cores on by whole intervals at once, where it
can prove the result is the one switching one interval at a time gives. On unlimited cores the
processes' GILs are kept together in ``OwnCores``, and ``sim.own_cores`` likewise moves every
process computing on by whole intervals at once (there the arithmetic is exact).
Imports only ``sim.engine``, ``sim.cores``, ``sim.dist``, ``sim.shared_turns`` and
``sim.own_cores``.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from sim.cores import Burst, Cores
from sim.dist import MAX_DURATION_NS
from sim.engine import Callback, Engine, Handle
from sim.own_cores import OwnCores, settle_own_turns
from sim.shared_turns import settle_shared_turns

__all__ = ["Gil", "SWITCH_INTERVAL_NS"]

SWITCH_INTERVAL_NS = 5_000_000
"""CPython's default ``sys.getswitchinterval()`` (0.005 s)."""

_EXACT_SPAN_NS = 2**52
"""The most wall time settled at once on ``Cores``: they keep CPU in floats, which hold whole
ns exactly only below 2^53, and the settled turns are one burst on them (a settling per 52
simulated days costs nothing)."""


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
        "own_cores",
        "holder",
        "waiters",
        "skip",
        "_grant_id",
        "_drop_asked",
        "_burst",
        "_finish_at",
        "_drop_at",
        "_drop_due",
        "_scan_after",
        "switches",
    )

    def __init__(
        self,
        engine: Engine,
        *,
        interval: int = SWITCH_INTERVAL_NS,
        cores: Cores | None = None,
        own_cores: OwnCores | None = None,
        skip: bool = True,
    ) -> None:
        self.engine = engine
        self.interval = interval
        """The switch interval in ns."""
        self.cores = cores
        """The machine's cores, shared with other processes; None: a core always free."""
        self.own_cores = own_cores
        """Without ``cores``: the other processes' GILs, each holder on a core of its own, for
        settling their turns together (None: this process's turns are settled alone)."""
        self.skip = skip
        """Settle rounds of threads only taking turns at once (False: one engine step per
        switch, the plain way, which the settled rounds must match)."""
        self._burst: Burst | None = None
        self.holder: _Job | None = None
        self.waiters: deque[_Job] = deque()
        self._grant_id = 0
        self._drop_asked = False
        self._finish_at: Handle | None = None
        self._drop_at: Handle | None = None
        self._drop_due = 0
        """When ``_drop_at`` is due."""
        self._scan_after = 0
        self.switches = 0
        """How many forced switches happened (a thread was made to drop the GIL)."""
        if cores is not None:
            cores.gils.append(self)
        elif own_cores is not None:
            own_cores.gils.append(self)

    def run(self, cpu_ns: int, fn: Callback, arg: Any) -> None:
        """Spend ``cpu_ns`` of CPU holding the GIL, then call ``fn(arg)``."""
        job = _Job(cpu_ns, fn, arg)
        if self.holder is None:
            self._grant(job)
            return
        self.waiters.append(job)
        if not self._drop_asked:
            self._drop_asked = True
            self._set_drop(self.engine.now + self.interval)

    def _set_drop(self, at: int) -> None:
        """Ask the holder of this grant to drop the GIL at ``at``."""
        self._drop_due = at
        self._drop_at = self.engine.at(at, self._drop, self._grant_id)

    def _grant(self, job: _Job) -> None:
        engine = self.engine
        self._grant_id += 1
        self.holder = job
        job.since = engine.now
        if self.cores is None:
            self._finish_at = engine.at(engine.now + job.remaining, self._finish, self._grant_id)
        else:
            self._burst = self.cores.run(job.remaining, self._finish, self._grant_id)
        if self.waiters:
            self._drop_asked = True
            self._set_drop(engine.now + self.interval)
        else:
            self._drop_asked = False

    def _finish(self, grant_id: int) -> None:
        if grant_id != self._grant_id:
            return  # this grant was pre-empted; its job finishes under a later grant
        job = self.holder
        assert job is not None
        self._finish_at = None
        if self._drop_at is not None:  # due later: the holder lets go first
            self.engine.cancel(self._drop_at)
            self._drop_at = None
        self.holder = None
        self._grant_id += 1
        if self.waiters:
            self._grant(self.waiters.popleft())
        job.fn(job.arg)

    def _drop(self, grant_id: int) -> None:
        self._drop_at = None
        if grant_id != self._grant_id or not self.waiters:
            return  # the holder already let go, or nobody is waiting any more
        job = self.holder
        assert job is not None
        if self.cores is None:
            job.remaining -= self.engine.now - job.since
            if job.remaining <= 0:
                return  # it finishes at this very instant anyway
            assert self._finish_at is not None
            self.engine.cancel(self._finish_at)
            self._finish_at = None
        else:  # it ran at its share of the cores, not necessarily a whole one
            burst = self._burst
            assert burst is not None
            job.remaining = self.cores.left(burst)
            if job.remaining <= 0:
                return
            self.cores.stop(burst)
        self.switches += 1
        self.waiters.append(job)
        rounds = self._rounds_to_settle() if self.skip and self._on_own_core() else 0
        if rounds:
            self._settle_rounds(rounds)
        else:
            self._grant(self.waiters.popleft())
            if self.skip and self.cores is not None:
                settle_shared_turns(self.cores, self)
            elif self.skip and self.own_cores is not None:
                settle_own_turns(self.own_cores, self)

    def _on_own_core(self) -> bool:
        """Whether the next holder executes at full speed (one CPU ns per ns) whoever holds
        the GIL: cores unlimited, or one free for it (nothing else can come onto the cores
        before the horizon, which bounds what is settled, so this holds for every turn)."""
        cores = self.cores
        return cores is None or len(cores.running) < cores.count

    def _rounds_to_settle(self) -> int:
        """How many whole rounds of the waiters (the pre-empted holder last) can be settled at
        once: 0 unless every one of them would run a full interval in each, with every forced
        switch strictly before anything else is due and every engine entry within the clock."""
        waiters, interval, now = self.waiters, self.interval, self.engine.now
        k = len(waiters)
        round_ns = k * interval
        horizon = self.engine.horizon()
        if horizon is None:
            horizon = MAX_DURATION_NS + 1
        # The m-th round ends with a switch at now + m * round_ns: before the horizon (another
        # call due at that very instant was scheduled earlier, so it would run first).
        rounds = (horizon - now - 1) // round_ns
        if self.cores is not None:
            rounds = min(rounds, max(1, _EXACT_SPAN_NS // round_ns))
        if rounds < 1 or self.switches < self._scan_after:
            return 0  # cheap refusals first: the scan below is O(k)
        shortest = reach = 0
        for i, job in enumerate(waiters):
            if i == 0 or job.remaining < shortest:
                shortest = job.remaining
            reach = max(reach, i * interval + job.remaining)
        # In each round every thread's remaining CPU must stay above one interval (else it
        # finishes in its turn instead of being switched out) ...
        rounds = min(rounds, (shortest - 1) // interval)
        # ... and each turn's end, scheduled when it is granted, must fit the clock: the i-th
        # thread is granted at now + (r*k + i) * interval with r intervals of CPU used, so its
        # end is at now + i * interval + remaining + r * (k - 1) * interval.
        rounds = min(rounds, (MAX_DURATION_NS - now - reach) // ((k - 1) * interval) + 1)
        if rounds < 1:
            # Someone finishes (or the clock runs out) within a round: no settling until then.
            self._scan_after = self.switches + k
            return 0
        return rounds

    def _settle_rounds(self, rounds: int) -> None:
        """Account for ``rounds`` whole rounds at once, and leave the GIL as it is one interval
        before the last of their switches: granted to the thread that ends the last round."""
        waiters, interval = self.waiters, self.interval
        k = len(waiters)
        spent = rounds * interval
        for job in waiters:
            job.remaining -= spent
        last = waiters.pop()
        last.remaining += interval  # it has its last turn of the last round still to run
        self.switches += rounds * k - 1  # the switch ending that turn counts as it happens
        now = self.engine.now
        end = now + rounds * k * interval
        self._grant_id += 1
        self.holder = last
        last.since = end - interval
        if self.cores is None:
            self._finish_at = self.engine.at(
                last.since + last.remaining, self._finish, self._grant_id
            )
        else:
            # One burst on a core from now on stands for every turn up to ``last``'s: the core
            # runs one of these threads at full speed all along, so at ``end`` it has exactly
            # what ``last`` still needs after its turn, as switching turn by turn leaves it.
            self._burst = self.cores.run(
                last.since - now + last.remaining, self._finish, self._grant_id
            )
        self._drop_asked = True
        self._set_drop(end)

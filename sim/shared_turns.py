"""Turns of GILs whose holders run on ``Cores``, settled many switch intervals at a step.

With ``--cpus N`` and H processes computing, each GIL holder runs at min(1, N/H) of a core
(its share), and every process whose GIL has waiters switches once per interval, at its own
phase. ``sim.gil`` settles a lone process's rounds at once, but here a
turn's CPU depends on the other processes' switches, which split it into pieces on the cores,
and their switches are due before its rounds end.
As long as nothing else is due on the engine, no thread finishes and every process keeps
computing, the whole machine repeats itself every interval: the same instants, the same
pieces, the same share. This module then moves it on by whole intervals in one step.

It must leave exactly the state that switching interval by interval leaves, floats included,
since ``Cores`` keeps CPU in floats and rounds a pre-empted holder's remaining CPU up to whole
ns. So a turn's CPU is only taken as a constant when that is proved:

- *exactly*: the share is a binary fraction a/2^e (1/2, 3/4, ...) with e <= 18 and every
  value is small enough that each piece and each subtraction is exact; a turn then takes
  ``floor(interval * share)`` ns off, and a holder without waiters loses exactly
  ``time * share``;
- *within bounds*: otherwise the rounding of a turn's J pieces is at most 2^-53 of each value,
  and the turn takes ``floor(interval * share + 1e-6)`` ns whenever that number is farther
  from a whole one than the rounding could move it (holders without waiters would drift by
  rounding, so there are none in this case).

A turn in progress at either end is replayed piece by piece, with the operations ``Cores``
itself does. The engine entries are scheduled again in the order switching would have left
them, so ties with what comes next run as they would have.
Imports only ``sim.cores`` and ``sim.dist`` (``sim.gil`` only for types).
"""

from __future__ import annotations

import functools
import math
from collections import deque
from fractions import Fraction
from typing import TYPE_CHECKING, Protocol

from sim.cores import _DONE, Burst, Cores
from sim.dist import MAX_DURATION_NS

if TYPE_CHECKING:
    from sim.gil import Gil

__all__ = ["Settling", "settle_shared_turns", "try_later", "turn_cpu"]

MIN_INTERVALS = 2
"""The fewest switch intervals worth settling at once."""

_EXACT_BITS = 18
"""The most binary digits after the point a share may have for the exact case: a piece's
fraction is then at least 2^-18 ns, more than twice the 1e-6 ns ``Cores`` rounds away."""

_FLOAT_BITS = 53
"""Whole numbers below 2^53 are exact in a float."""

_SAFE_NS = 3
"""CPU ns, beyond one interval's, a thread must keep at every switch of a settled stretch: the
cores' timer (due when the shortest burst ends) then always falls after the next switch."""


def turn_cpu(interval: int, rate: float, pieces: int, most_ns: int) -> int | None:
    """The whole ns of CPU each full turn of ``interval`` takes off a thread with up to
    ``most_ns`` left, at ``rate`` of a core, its turn cut into ``pieces`` by the switches of
    the processes sharing the cores; None when the float rounding of ``Cores`` could make it
    differ from one turn to another."""
    taken, exact_below, bounded_below = _turn_rule(interval, rate, pieces)
    return taken if most_ns < exact_below or most_ns < bounded_below else None


@functools.lru_cache(maxsize=256)
def _turn_rule(interval: int, rate: float, pieces: int) -> tuple[int, int, int]:
    """What a full turn takes, and the remaining CPU below which that is proved: exactly (a
    binary share), and within the bounds of rounding. A run meets a handful of these."""
    share = Fraction(rate)
    exact = Fraction(interval) * share + Fraction(_DONE)
    taken = math.floor(exact)
    exact_below = 0
    if _is_binary(share) and interval * share.numerator < 2**_FLOAT_BITS:
        exact_below = 2 ** (_FLOAT_BITS - _bits(share))
    # Each piece and each subtraction rounds by at most 2^-53 of its value, so a turn from R
    # ends within (interval + (pieces + 1) * R) / 2^52 of exact (doubled for the subtraction of
    # 1e-6 and for good measure): below the distance to the nearest whole number, the same.
    room = min(exact - taken, taken + 1 - exact) * 2 ** (_FLOAT_BITS - 1) - interval
    bounded_below = min(2**_FLOAT_BITS, max(0, math.ceil(room / (pieces + 1))))
    return taken, exact_below, bounded_below


def _is_binary(share: Fraction) -> bool:
    """Whether ``share`` is a/2^e with e at most ``_EXACT_BITS``."""
    den = share.denominator
    return den & (den - 1) == 0 and den <= 2**_EXACT_BITS


def _bits(share: Fraction) -> int:
    """e of a share a/2^e."""
    return share.denominator.bit_length() - 1


class _Period:
    """The instants at which the cores settle, every interval from ``now`` on: instant i
    (from 1) is ``now + (i // J) * interval + offsets[i % J]``."""

    __slots__ = ("now", "interval", "offsets", "index", "dones")

    def __init__(self, now: int, interval: int, drops: list[int], rate: float) -> None:
        self.now = now
        self.interval = interval
        self.offsets = sorted({(due - now) % interval for due in drops})
        self.index = {offset: i for i, offset in enumerate(self.offsets)}
        ends = self.offsets[1:] + [interval]
        # What ``Cores._settle`` takes off every burst at each instant: the same expression.
        self.dones = [(end - start) * rate for start, end in zip(self.offsets, ends, strict=True)]

    def of(self, t: int) -> int:
        """The number of the instant ``t`` (0: now)."""
        periods, offset = divmod(t - self.now, self.interval)
        return periods * len(self.offsets) + self.index[offset]

    def replay(self, left: float, start: int, end: int) -> float:
        """``left`` after the cores settle at instants ``start`` + 1 to ``end``."""
        dones, pieces = self.dones, len(self.dones)
        for i in range(start, end):
            left -= dones[i % pieces]
        return left


class Settling(Protocol):
    """What settles turns in bulk (``Cores``, ``sim.own_cores.OwnCores``): when to try next."""

    settle_misses: int
    """Tries in a row that settled nothing."""
    settle_after: int
    """No try before this instant."""


def try_later(holder: Settling, now: int, interval: int) -> None:
    """A try that settled nothing: the next one only some intervals on."""
    # Twice as many intervals after each try that could not, up to 64: a try is O(threads),
    # a switch O(1), and a busy run would rarely settle anything.
    holder.settle_misses = misses = min(holder.settle_misses + 1, 6)
    holder.settle_after = now + (interval << misses)


def settle_shared_turns(cores: Cores, trigger: Gil) -> None:
    """Called as ``trigger`` has just granted its GIL after a forced switch on shared cores:
    move every process on these cores on by as many whole intervals as can be settled."""
    engine = cores.engine
    now = engine.now
    interval = trigger.interval
    if now < cores.settle_after:
        return
    contended: list[Gil] = []
    alone: list[Gil] = []
    for gil in cores.gils:
        if gil.holder is None:
            continue
        if gil.interval != interval or not gil.skip or gil._burst is None:
            return try_later(cores, now, interval)
        if gil.waiters and gil._drop_at is not None:
            contended.append(gil)
        elif not gil.waiters and not gil._drop_asked:
            alone.append(gil)
        else:  # a holder that ends at this instant: not a steady state
            return try_later(cores, now, interval)
    timer = cores._timer
    if timer is None or len(contended) + len(alone) != len(cores.running):
        return try_later(cores, now, interval)
    mine: set[int] = {gil._drop_at for gil in contended if gil._drop_at is not None}
    horizon = engine.horizon(mine | {timer})
    if horizon is None:
        horizon = MAX_DURATION_NS + 1
    # The last settled switch is at now + m * interval, strictly before anything else is due
    # (a call due then was scheduled earlier, so it would run first).
    most = (horizon - now - 1) // interval
    if most < MIN_INTERVALS:
        return try_later(cores, now, interval)
    assert cores._since == now and trigger in contended
    if not _settle(cores, contended, alone, most):
        try_later(cores, now, interval)


def _settle(cores: Cores, contended: list[Gil], alone: list[Gil], most: int) -> bool:
    """Settle up to ``most`` intervals if every bound allows at least ``MIN_INTERVALS``."""
    engine = cores.engine
    now = engine.now
    interval = contended[0].interval
    rate = cores._rate()
    contended.sort(key=lambda gil: (gil._drop_due, gil._drop_at))  # the trigger last
    period = _Period(now, interval, [gil._drop_due for gil in contended], rate)
    # Each holder's turn in progress, replayed to its switch: then every thread's remaining
    # CPU is a whole number of ns, in the order the threads take their turns.
    turns: list[list[int]] = []
    for gil in contended:
        burst = gil._burst
        assert burst is not None
        left = period.replay(burst.left, 0, period.of(gil._drop_due))
        turns.append([job.remaining for job in gil.waiters] + [max(0, math.ceil(left - _DONE))])
    highest = max(max(remaining) for remaining in turns)
    taken = turn_cpu(interval, rate, len(period.offsets), highest)
    if taken is None or taken < 1:
        return False
    share = Fraction(rate)
    if alone and not (
        _is_binary(share)
        and interval * share.numerator < 2**_FLOAT_BITS
        and all(gil._burst.left < 2 ** (_FLOAT_BITS - _bits(share)) for gil in alone)  # type: ignore[union-attr]
    ):
        return False  # their CPU would not be exact
    floor = interval + _SAFE_NS
    for remaining in turns:
        k = len(remaining)
        for j, ns in enumerate(remaining):
            # The thread at place j starts turns at switches j+1, j+1+k, ... and must have
            # ``floor`` + one turn's CPU at the start of each.
            if j == k - 1 and ns < floor:
                return False  # the holder's turn in progress ends too close to its end
            starts = max(0, (ns - floor) // taken)
            most = min(most, starts * k + j)
    per_interval = Fraction(interval) * share
    for gil in alone:
        burst = gil._burst
        assert burst is not None
        most = min(most, math.floor((Fraction(burst.left) - floor + 1) / per_interval))
    longest = max([highest] + [math.ceil(gil._burst.left) for gil in alone])  # type: ignore[union-attr]
    # Every timer switching sets must fit the clock, as it would have when switched.
    most = min(most, (MAX_DURATION_NS - now - 1 - math.ceil(longest / rate)) // interval - 1)
    if most < MIN_INTERVALS:
        return False
    _move_on(cores, contended, alone, turns, period, most, taken)
    cores.settle_misses = 0
    return True


def _move_on(
    cores: Cores,
    contended: list[Gil],
    alone: list[Gil],
    turns: list[list[int]],
    period: _Period,
    intervals: int,
    taken: int,
) -> None:
    """Leave every GIL and the cores as switching ``intervals`` intervals on from now leaves
    them, just after the ``trigger`` (the last of ``contended``) grants its GIL again."""
    engine = cores.engine
    interval = period.interval
    end = period.now + intervals * interval
    share = Fraction(cores._rate())  # the float ``Cores`` uses, exactly
    lone = {id(gil._burst) for gil in alone}
    running: list[Burst] = []
    for burst in cores.running:  # those of holders without waiters keep their place
        if id(burst) in lone:
            burst.left = float(Fraction(burst.left) - intervals * interval * share)
            running.append(burst)
    drops: list[tuple[Gil, int]] = []
    for gil, remaining in zip(contended, turns, strict=True):
        k = len(remaining)
        for j in range(k):  # turns ended by switches 2 .. intervals
            if intervals - 2 >= j:
                remaining[j] -= ((intervals - 2 - j) // k + 1) * taken
        jobs = list(gil.waiters)
        assert gil.holder is not None
        jobs.append(gil.holder)
        for job, ns in zip(jobs, remaining, strict=True):
            job.remaining = ns
        q = (intervals - 1) % k
        holder = jobs[q]
        gil.waiters = deque(jobs[q + 1 :] + jobs[:q])
        granted = gil._drop_due + (intervals - 1) * interval
        holder.since = granted
        gil.holder = holder
        gil.switches += intervals
        assert gil._drop_at is not None
        engine.cancel(gil._drop_at)
        gil._grant_id += 1
        left: float = holder.remaining
        start, stop = period.of(granted), period.of(end)
        if stop > start:
            left = period.replay(left, start, stop)
        burst = Burst(left, gil._finish, gil._grant_id)
        gil._burst = burst
        running.append(burst)
        drops.append((gil, granted + interval))
    cores.running = running
    cores._since = end
    *others, (trigger, due) = drops  # sorted by due time, the trigger's the newest
    for gil, at in others:  # in the order they were scheduled: by time, then by turn
        gil._set_drop(at)
    cores._schedule(since=end)  # the trigger's grant moved the cores last ...
    trigger._set_drop(due)  # ... just before it asked for its next switch

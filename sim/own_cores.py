"""Turns of the GILs of processes on unlimited cores, settled many switch intervals at a step.

Without ``--cpus`` every GIL holder has a core of its own: a process's turns never depend on
another's. ``sim.gil`` settles a lone process's whole rounds at once, but with several
processes computing, each switches once per interval at its own phase, so another's switch is
always due before a round ends and every process was switched one interval at a time. Here the
GILs of one simulation are kept together (``OwnCores``) and, while nothing else is due on the
engine and no thread comes near the end of its CPU, all of them are moved on by whole intervals
in one step.

Switching interval by interval only takes whole ns off whole ns (no cores, so no floats) and
schedules nothing but each GIL's own next drop and the new holder's end, so the state after m
intervals is arithmetic. What must also come out the same is the order of the engine entries
that ties later resolve by: each GIL's last grant schedules the holder's end, then its next
drop, and the GILs are granted in the order of their drops (by time, then by the order the
drops were scheduled, which every interval repeats). Settling cancels the entries it replaces
and schedules the new ones in that order; they are newer than every other pending entry, as
they would be after switching.
Imports only ``sim.dist`` (``sim.gil`` only for types).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.dist import MAX_DURATION_NS
from sim.shared_turns import try_later

if TYPE_CHECKING:
    from sim.gil import Gil, _Job

__all__ = ["OwnCores", "settle_own_turns"]

MIN_INTERVALS = 2
"""The fewest switch intervals worth settling at once."""


class OwnCores:
    """Unlimited cores (no ``--cpus``): a core for every GIL holder. Holds the GILs of the
    simulation's processes, so that their turns are settled together."""

    __slots__ = ("gils", "settle_after", "settle_misses")

    def __init__(self) -> None:
        self.gils: list[Gil] = []
        """The GILs of the processes, in the order they were made."""
        self.settle_after = 0
        """When turns may next be settled (a while after a try that could not)."""
        self.settle_misses = 0
        """Tries in a row that could not settle anything."""


def settle_own_turns(own: OwnCores, trigger: Gil) -> None:
    """Called as ``trigger`` has just granted its GIL after a forced switch: move every
    process whose GIL has waiters on by as many whole intervals as can be settled."""
    engine = trigger.engine
    now = engine.now
    interval = trigger.interval
    if now < own.settle_after:
        return
    contended: list[Gil] = []
    mine: set[int] = set()
    for gil in own.gils:
        if gil.holder is None or not gil.waiters:
            continue  # idle, or a holder alone: its end is an entry like any other
        if (
            gil.interval != interval
            or not gil.skip
            or gil._drop_at is None  # its holder ends at this very instant
            or gil._finish_at is None
            or gil._drop_due > now + interval  # not switching once an interval (yet)
        ):
            return try_later(own, now, interval)
        contended.append(gil)
        mine.add(gil._drop_at)
        mine.add(gil._finish_at)
    horizon = engine.horizon(mine)
    if horizon is None:
        horizon = MAX_DURATION_NS + 1
    # The last settled switch is the trigger's at now + m * interval, strictly before anything
    # else is due (a call due at that instant was scheduled earlier, so it would run first).
    most = (horizon - now - 1) // interval
    for gil in contended:
        most = min(most, _most_intervals(gil, now))
    if most < MIN_INTERVALS:
        return try_later(own, now, interval)
    # Drops sorted as they run: by time, then as scheduled; the trigger's, just set, is last.
    contended.sort(key=lambda gil: (gil._drop_due, gil._drop_at))
    moved = [_move_on(gil, most) for gil in contended]
    for gil, finish, drop in moved:
        gil._finish_at = engine.at(finish, gil._finish, gil._grant_id)
        gil._drop_asked = True
        gil._set_drop(drop)
    own.settle_misses = 0


def _turns(gil: Gil) -> tuple[list[_Job], int]:
    """The threads in the order their turns end from now (the holder first), and the CPU the
    holder's turn in progress takes by its switch (one interval, or more when nobody waited
    as it was granted)."""
    holder = gil.holder
    assert holder is not None
    return [holder, *gil.waiters], gil._drop_due - holder.since


def _most_intervals(gil: Gil, now: int) -> int:
    """The most intervals ``gil`` can be moved on by: after them every thread must still need
    more than one interval of CPU (so each turn ended by a switch was a full one, and each end
    still scheduled falls after the next switch), and every entry must fit the clock."""
    interval = gil.interval
    jobs, first = _turns(gil)
    k = len(jobs)
    most = MAX_DURATION_NS
    for j, job in enumerate(jobs):
        # Thread j ends turns at switches j, j + k, ... (numbered from 0), and may end
        # ``turns`` of them keeping more than one interval; m switches end (m - 1 - j) // k + 1
        # (the holder's first turn is ``extra`` longer than the others).
        extra = first - interval if j == 0 else 0
        turns = (job.remaining - extra - interval - 1) // interval
        if j == 0 and turns < 1:
            return 0  # the holder's turn in progress ends too close to its end
        most = min(most, j + turns * k)
    # Each grant up to the last switch (at most now + m * interval) schedules an end at most
    # the longest remaining CPU later, and a drop one interval later.
    longest = max(max(job.remaining for job in jobs), interval)
    return min(most, (MAX_DURATION_NS - now - longest) // interval)


def _move_on(gil: Gil, intervals: int) -> tuple[Gil, int, int]:
    """Leave ``gil`` as ``intervals`` more switches leave it, just after its last grant: its
    threads' CPU, line and switch count. Cancels its pending entries and returns when the new
    holder's end and the next drop are due, to be scheduled in the order switching would."""
    engine = gil.engine
    interval = gil.interval
    jobs, first = _turns(gil)
    k = len(jobs)
    for j, job in enumerate(jobs):
        if j < intervals:
            job.remaining -= ((intervals - 1 - j) // k + 1) * interval
    jobs[0].remaining -= first - interval  # its turn in progress is ``first`` long
    assert gil._drop_at is not None and gil._finish_at is not None
    engine.cancel(gil._drop_at)
    engine.cancel(gil._finish_at)
    gil._drop_at = gil._finish_at = None
    q = intervals % k
    holder = jobs[q]
    granted = gil._drop_due + (intervals - 1) * interval
    holder.since = granted
    gil.holder = holder
    gil.waiters.clear()
    gil.waiters.extend(jobs[q + 1 :] + jobs[:q])
    gil.switches += intervals
    gil._grant_id += 1
    return gil, granted + holder.remaining, granted + interval

"""The small process and thread numbers of a Perfetto trace, from the recorded ones.

Perfetto reads ids as 32-bit numbers, and a recorded thread ident (an address) does not fit:
``TraceIds`` numbers threads 1, 2... in the order they first recorded something, keeping the
pids that fit; ``PidScan`` finds those pids in a first pass over a recording file. Imports the
event model only.
"""

from __future__ import annotations

from tracer import events as K
from tracer.events import Event

__all__ = ["ID_LIMIT", "TraceIds", "PidScan"]

ID_LIMIT = 2**31
"""Perfetto's JSON importer reads ``pid`` and ``tid`` as unsigned 32-bit numbers and takes a
``tid`` beyond that for the process's own (tid = pid): a Python thread ident, on Linux an
address such as 139621015967424, put every thread of a process on one track (its slices
overlapping, its thread instants dropped). Ids stay below this (signed 32 bits, as other
viewers read them)."""


class TraceIds:
    """The trace's small pids and tids, from the recorded ones.

    A pid in 1 .. ``ID_LIMIT`` - 1 is kept (it is the process's own, which its label names);
    another gets the smallest number no kept pid is. Threads are numbered 1, 2... across the
    whole trace, in the order they first recorded something, skipping the pids: Perfetto
    applies a ``thread_name`` to the last thread it saw with that tid, whatever its process, so
    no two threads share a number (the simulator's processes each have a thread 1), and a tid
    equal to a pid would make that thread its process's main thread.

    ``kept``: every recorded pid in range; ``foreign``: the others, in the order they first
    recorded something. Threads are numbered as ``tid`` first meets them, which the builder
    does for every event in time order.
    """

    def __init__(self, kept: set[int], foreign: list[int]) -> None:
        self.kept = kept
        self.pids: dict[int, int] = {}
        self.tids: dict[tuple[int, int], int] = {}
        self.next_tid = 1
        for pid in foreign:  # every pid first: the tids skip them all
            self.pid(pid)

    def pid(self, pid: int) -> int:
        """The trace's number for recorded process ``pid``."""
        if 0 < pid < ID_LIMIT:
            return pid
        number = self.pids.get(pid)
        if number is None:
            taken = self.kept | set(self.pids.values())
            number = self.pids[pid] = min(set(range(1, len(taken) + 2)) - taken)
        return number

    def ids(self, pid: int, tid: int) -> tuple[int, int]:
        """The trace's ``(pid, tid)`` for a recorded thread."""
        return self.pid(pid), self.tid(pid, tid)

    def tid(self, pid: int, tid: int) -> int:
        """The trace's number for recorded thread ``tid`` of process ``pid``."""
        number = self.tids.get((pid, tid))
        if number is None:
            number = self.next_tid
            while number in self.kept or number in self.pids.values():
                number += 1
            self.tids[(pid, tid)] = number
            self.next_tid = number + 1
        return number


class PidScan:
    """Gathers what ``TraceIds`` needs from a pass over the events in any order: the pids in
    range, and when each other one first recorded something (its place in time order)."""

    def __init__(self) -> None:
        self.kept: set[int] = set()
        self.first: dict[int, tuple[int, int, int]] = {}
        self.count = 0

    def __call__(self, event: Event) -> None:
        pid = event.pid or 1
        if 0 < pid < ID_LIMIT:
            self.kept.add(pid)
        elif event.pid or event.kind != K.MARK:  # a process's own event, not a stray mark
            key = (event.t, event.seq, self.count)
            if key < self.first.get(pid, key):
                self.first[pid] = key
            self.first.setdefault(pid, key)
        self.count += 1

    def ids(self) -> TraceIds:
        """The ids of the events seen."""
        return TraceIds(self.kept, sorted(self.first, key=self.first.__getitem__))

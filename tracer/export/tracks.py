"""The Perfetto trace's thread tracks and counters, built as a recording streams past.

A thread track is every slice drawn on one thread (loop steps, a request's time on a worker,
the protocol calls inside them), nested as ``tracer.export.perfetto.nest`` nests them all at
once: in the order of their starts, those that straddle their parent's end left out. Here
they come one by one, as the requests they belong to go by, and each is nested and written
once no slice still to come can start before it (``Track.release``). Counters (requests in
flight, queue depth) likewise: a level is written once no change still to come can be
earlier. So the trace of a long run is written as it is read, holding only the slices of the
moment, not every slice of the run.

Imports the recording model only.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

from tracer.events import Event

__all__ = ["Track", "Counters", "Emit", "Slice"]

Emit = Callable[[dict[str, Any]], None]
"""Where trace events go (appended to the builder's output)."""

Slice = tuple[int, int, Event | None, str]
"""(start ns, end ns, the event it shows, slice name): ``tracer.export.perfetto.Interval``."""

_Key = tuple[int, int, int, int, int, int]
"""A slice's place in ``nest``'s order, then in the order the whole-recording build added
slices in: (start, 0 for an instant closing its parent else 1, -end, request rank, 0 for a
step or hop / 1 for a protocol call, the event's place in the recording)."""


def _closes(top: Slice, at: Slice) -> bool:
    """Whether the slice on top of a stack has ended where ``at`` begins (an instant at a
    parent's very end still belongs to it)."""
    if top[1] > at[0]:
        return False
    return not (top[1] == at[0] == at[1] and top[0] < at[0])


class Track:
    """One thread's slices: held until released in ``nest`` order, then nested and swept
    into ``B``/``E`` events (``emit``) exactly as ``nest`` followed by ``_sweep`` would."""

    __slots__ = ("common", "emit", "args", "held", "nesting", "open", "pending")

    def __init__(
        self, common: dict[str, Any], emit: Emit, args: Callable[[Event | None], dict[str, Any]]
    ) -> None:
        self.common = common
        self.emit = emit
        self.args = args
        self.held: list[tuple[_Key, Slice]] = []
        self.nesting: list[Slice] = []  # ``nest``'s stack: what a slice must fit in
        self.open: list[Slice] = []  # ``_sweep``'s stack: slices begun and not yet ended
        self.pending: dict[int, int] = {}
        """Request -> the earliest start of its slices not added yet (their name waits for
        the request's start): nothing from there on is released."""

    def add(self, key: _Key, piece: Slice) -> None:
        """Hold a slice until ``release`` reaches its start."""
        heapq.heappush(self.held, (key, piece))

    def release(self, before: float) -> None:
        """Nest and write every held slice that starts before ``before`` (and before any
        pending one): no slice still to come starts earlier."""
        if self.pending:
            before = min(before, min(self.pending.values()))
        held = self.held
        while held and held[0][0][0] < before:
            self._place(heapq.heappop(held)[1])

    def close(self) -> None:
        """Write everything held, and end the slices still open."""
        self.release(float("inf"))
        while self.open:
            self._end(self.open.pop())

    def _place(self, piece: Slice) -> None:
        nesting = self.nesting
        while nesting and _closes(nesting[-1], piece):
            nesting.pop()
        if nesting and piece[1] > nesting[-1][1]:
            return  # it straddles its parent's end: drawn on the request's own row only
        nesting.append(piece)
        opened = self.open
        while opened and _closes(opened[-1], piece):
            self._end(opened.pop())
        self.emit(
            {
                **self.common,
                "ph": "B",
                "name": piece[3],
                "ts": piece[0] / 1000,
                "args": self.args(piece[2]),
            }
        )
        opened.append(piece)

    def _end(self, piece: Slice) -> None:
        self.emit({**self.common, "ph": "E", "name": piece[3], "ts": piece[1] / 1000})


class Counters:
    """The in-flight and queue-depth counters of each process, written in time order (ties:
    decrements first, then the order the requests came in) once no change still to come can
    be earlier than them (``release``)."""

    __slots__ = ("emit", "held", "levels", "pids")

    def __init__(self, emit: Emit, pids: Callable[[int], int]) -> None:
        self.emit = emit
        self.pids = pids
        self.held: list[tuple[tuple[int, int, int, int], int, str]] = []
        self.levels: dict[int, dict[str, int]] = {}

    def add(self, pid: int, rank: int, changes: list[tuple[int, str, int]]) -> None:
        """A request's changes (time, ``inflight`` or ``queue``, +1 or -1) on process ``pid``;
        ``rank``: its place among the requests (by first event)."""
        for number, (t, which, delta) in enumerate(changes):
            heapq.heappush(self.held, ((t, delta, rank, number), pid, which))

    def release(self, before: float) -> None:
        """Write the changes before ``before``."""
        held = self.held
        while held and held[0][0][0] < before:
            (t, delta, _, _), pid, which = heapq.heappop(held)
            level = self.levels.setdefault(pid, {"inflight": 0, "queue": 0})
            level[which] += delta
            name, arg = ("requests", "in flight") if which == "inflight" else ("queue", "depth")
            self.emit(
                {
                    "ph": "C",
                    "name": name,
                    "pid": self.pids(pid),
                    "tid": 0,
                    "ts": t / 1000,
                    "args": {arg: level[which]},
                }
            )

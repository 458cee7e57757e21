"""A recording file read in passes, for exports of runs too big to load.

``tracer.recording.load`` keeps every event (about 0.8 KB each: a million-request run of ten
million events needs several GB). An exporter that writes as it goes reads a
``RecordingFile`` instead: ``scan`` reads the file once, keeping only counts (the events of
each request, how far the file strays from time order), and ``events`` then reads it again,
giving the events in the very order ``load`` sorts them into, holding only those that must
wait for an earlier one still to come. Both passes read lines as ``load`` does
(``tracer.reading``: the same verdict on a bad line, the same cut-short last line), so
``unfinished`` says what ``Recording.unfinished`` would.

Imports the spine only (``tracer.reading``, ``tracer.recording``).
"""

from __future__ import annotations

import heapq
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from tracer.events import Event
from tracer.reading import UNREADABLE, EventLines, lines_until_eof, open_text, unreadable
from tracer.recording import Recording, loads, recording_file

__all__ = ["RecordingFile", "Scan", "last_of", "shell_of"]


@dataclass(slots=True)
class Scan:
    """What a first pass over a recording's events found (``RecordingFile.scan``)."""

    events: int = 0
    """How many events the file holds."""
    counts: dict[int, int] = field(default_factory=dict)
    """Events per request id: a second pass knows a request is over at its last event, even
    one that comes long after its ``request.end`` (a late error, abandoned work)."""
    lag: int = 0
    """The most an event's ``t`` falls behind the latest ``t`` before it in the file (ns): 0
    for a file in time order; a multi-process run's batches arrive a little out of it."""
    in_order: bool = True
    """The events are in ``(t, seq)`` order already (a simulation's file)."""


def last_of(counts: dict[int, int], req: int) -> bool:
    """Count one event of ``req`` off ``counts`` (a copy of ``Scan.counts``); True at its
    last, when the request's entry is dropped."""
    left = counts[req] - 1
    if left:
        counts[req] = left
        return False
    del counts[req]
    return True


class RecordingFile:
    """A recording on disk, its header read and checked (as ``load`` checks it), its events
    read on demand, as often as asked.

    ``shell`` is the ``Recording`` of its header with no events, for what reads only the
    header (titles, the clock, the output's default name); its ``truncated`` is set once a
    pass has read to the end, so ``unfinished`` then says what ``load``'s recording says.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        name = recording_file(path, "export")
        try:
            with open_text(name) as handle:
                first = next(lines_until_eof(handle), "")
        except UNREADABLE as exc:
            raise unreadable(name, exc) from None
        # The header line alone, checked by the reader's own rules.
        header = loads(first, name).header
        self.path = name
        self.shell = Recording(header=header, events=[], truncated=False, path=name)
        self._scan: Scan | None = None

    @property
    def header(self) -> dict[str, object]:
        """The recording's header."""
        return self.shell.header

    @property
    def unfinished(self) -> bool:
        """``Recording.unfinished`` of the file (its last line cut short, or its writer never
        done): known for the cut once a pass has read the whole file."""
        return self.shell.unfinished

    def read(self) -> Iterator[Event]:
        """The events in file order, each line read as ``load`` reads it; a broken line
        before the last raises ``RecordingFormatError``, a broken last one sets ``truncated``."""
        name = self.path
        try:
            with open_text(name) as handle:
                lines = lines_until_eof(handle)
                next(lines, None)  # the header, checked when the file was opened
                events = EventLines(lines, name)
                yield from events
        except UNREADABLE as exc:
            raise unreadable(name, exc) from None
        self.shell.truncated = events.truncated

    def scan(self, observe: Callable[[Event], None] | None = None) -> Scan:
        """Read the file once (file order), counting what ``events`` needs; ``observe`` is
        called with each event, for what an exporter gathers from the whole run."""
        found = Scan()
        counts = found.counts
        latest: float = -math.inf
        last_key: tuple[float, float] = (-math.inf, -math.inf)
        lag = 0
        in_order = True
        number = 0
        for event in self.read():
            number += 1
            t, req = event.t, event.req
            if req is not None:
                counts[req] = counts.get(req, 0) + 1
            if t < latest:
                lag = max(lag, int(latest - t))
            else:
                latest = t
            if in_order:
                key = (t, event.seq)
                in_order = key >= last_key
                last_key = key
            if observe is not None:
                observe(event)
        found.events, found.lag, found.in_order = number, lag, in_order
        self._scan = found
        return found

    def events(self) -> Iterator[Event]:
        """The events in ``load``'s order, ``(t, seq)`` with ties in file order, read again
        (``scan`` first, which this reads the file's disorder from).

        An event is held until no event still to come can sort before it: with ``lag`` the
        most any event trails the latest time before it, every later event comes at or after
        ``latest - lag``, so those before that time go out. A file in order holds nothing.
        """
        scan = self._scan if self._scan is not None else self.scan()
        if scan.in_order:
            yield from self.read()
            return
        lag = scan.lag
        held: list[tuple[int, int, int, Event]] = []
        push, pop = heapq.heappush, heapq.heappop
        latest = -math.inf
        for index, event in enumerate(self.read()):
            t = event.t
            push(held, (t, event.seq, index, event))
            if t > latest:
                latest = t
                safe = latest - lag
                while held[0][0] < safe:
                    yield pop(held)[3]
        while held:
            yield pop(held)[3]


def shell_of(recording: Recording | RecordingFile) -> Recording:
    """The ``Recording`` that says what a recording's header says: a loaded one itself, a
    file's ``shell``."""
    return recording.shell if isinstance(recording, RecordingFile) else recording

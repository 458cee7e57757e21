"""The recent ``loop.blocked`` events of one event loop, for the span model's delay links.

A request that was still queued while a block held the loop it then started on was kept from
starting by that block: the shim could not list it in the block's ``delayed`` (it was not
running yet), so the span model (``tracer.otel.spans``) looks it up here when the request
starts. Imports the spine only.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Any

from tracer.events import Event
from tracer.phases import event_dur

__all__ = ["RecentBlocks"]


class RecentBlocks:
    """The recent ``loop.blocked`` events of one loop (process and thread), at most ``size``,
    in recording order; ``around`` finds those a request may have been queued behind.

    Blocks of one loop follow each other (the loop runs one step at a time), so each starts
    and ends after the one before: the blocks that began before a request started and ended
    after it arrived are then a run found by bisection, nearly always empty, rather than a
    scan of every block for every request. Blocks that do not follow each other (a recording
    from elsewhere) are scanned whole, as they always were.
    """

    __slots__ = ("events", "starts", "ends", "ordered")

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.ordered = True  # times of ints, each block starting and ending after the last

    def add(self, block: Event, size: int = 256) -> None:
        """Keep ``block``, dropping the oldest beyond ``size``."""
        events = self.events
        events.append(block)
        if self.ordered:
            at = block.t
            if type(at) is int:
                end = at + event_dur(block)
                starts, ends = self.starts, self.ends
                if not starts or (at >= starts[-1] and end >= ends[-1]):
                    starts.append(at)
                    ends.append(end)
                else:
                    self.ordered = False
            else:
                self.ordered = False
        if len(events) > size:
            del events[0]
            if self.ordered:
                del self.starts[0]
                del self.ends[0]

    def around(self, arrived: Any, started: Any) -> list[Event]:
        """The blocks that may have kept a request arriving at ``arrived`` and starting at
        ``started`` from starting (``kept_from_starting`` decides): all of them unless they
        follow each other, else those that began before it started and ended after it
        arrived."""
        if not self.ordered or type(arrived) is not int or type(started) is not int:
            return self.events
        last = bisect_left(self.starts, started)  # blocks [0, last) began before the start
        first = bisect_right(self.ends, arrived, 0, last)  # and [first, last) ended after
        return self.events[first:last]

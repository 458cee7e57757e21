"""Which requests each loop-blocking place delayed: the cost of a place to the other requests.

A ``loop.blocked`` names in ``delayed`` the traced requests that were ready to run on its loop
when it ended. A request still queued while it held the loop (its task not started yet) was
kept from starting by it all the same, though the shim could not name it: readers add it from
the recording (docs/recording-format.md), by the rule the replay's "what delayed it" uses
(``tracer.phases.kept_from_starting``). ``PlaceDelays`` counts, for each place, the distinct
requests of both kinds, each once however many of the place's blocks delayed it.

A place's requests are bits of 64-bit words keyed by request id // 64, so a place that
delayed every request of a 100,000-request run holds about 1,600 words: a bit and a few
bytes a request. A queued request is looked up among the last ``RECENT`` blocks of the loop
it starts on, when it starts, as the OpenTelemetry export does (``tracer.otel.blocks``).
Imports ``tracer.events`` and ``tracer.phases`` only.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection
from typing import Any

from tracer.events import Event
from tracer.phases import event_dur, kept_from_starting

__all__ = ["PlaceDelays", "RECENT"]

RECENT = 256
"""How many of a loop's last blocks a request that starts is looked up among."""


class PlaceDelays:
    """The distinct requests each place delayed (``count``), from ``loop.blocked`` events
    (``blocked``) and the starts of the requests they kept queued (``started``)."""

    __slots__ = ("_words", "_partial", "_recent")

    def __init__(self) -> None:
        self._words: dict[str, dict[int, int]] = {}
        """Each place's delayed requests: bit ``req % 64`` of the word keyed ``req // 64``."""
        self._partial: set[str] = set()
        """Places with a block whose ``delayed`` is not whole (``delayed_complete: false``)."""
        self._recent: dict[tuple[int, int], _LoopBlocks] = {}
        """The last blocks of each loop, by process and thread."""

    def blocked(self, event: Event, place: str) -> None:
        """A ``loop.blocked`` counted at ``place``: the requests it names as delayed, and the
        block kept for the requests it kept queued (``started``)."""
        data = event.data
        named = data.get("delayed")
        if isinstance(named, list):
            for req in named:
                if type(req) is int and req != event.req:
                    self._mark(place, req)
        if data.get("delayed_complete") is False:
            self._partial.add(place)
        loop = self._recent.get((event.pid, event.tid))
        if loop is None:
            loop = self._recent[(event.pid, event.tid)] = _LoopBlocks()
        loop.add(event, place)

    def started(self, req: int, arrived: Any, start: Event) -> None:
        """``req``, which arrived at ``arrived``, started (``start``): each place whose block
        held the loop it started on while it was queued delayed it."""
        loop = self._recent.get((start.pid, start.tid))
        if loop is None or type(arrived) is not int or type(start.t) is not int:
            return
        for block, place in loop.around(arrived, start.t):
            if block.req != req and kept_from_starting(block, arrived, start):
                self._mark(place, req)

    def count(self, place: str, leave_out: Collection[int] = ()) -> int:
        """How many distinct requests ``place`` delayed, ``leave_out`` (lifespan connections)
        not counted."""
        words = self._words.get(place)
        if not words:
            return 0
        count = sum(word.bit_count() for word in words.values())
        for req in leave_out:
            count -= (words.get(req >> 6, 0) >> (req & 63)) & 1
        return count

    def partial(self, place: str) -> bool:
        """Whether ``place`` had a block whose list of delayed requests is not whole (uvloop
        hides its timers): its count is then a bound from below."""
        return place in self._partial

    def _mark(self, place: str, req: int) -> None:
        words = self._words.get(place)
        if words is None:
            words = self._words[place] = {}
        key = req >> 6
        words[key] = words.get(key, 0) | (1 << (req & 63))


class _LoopBlocks:
    """The last ``RECENT`` blocks of one loop, with their places, in recording order.

    A loop runs one step at a time, so its blocks follow each other, each starting and ending
    after the one before: the blocks that ended after a request arrived are then the last few,
    found from the newest back. Blocks that do not follow each other (events fed out of order)
    are all looked at."""

    __slots__ = ("blocks", "ordered")

    def __init__(self) -> None:
        self.blocks: deque[tuple[Event, str]] = deque(maxlen=RECENT)
        self.ordered = True

    def add(self, block: Event, place: str) -> None:
        blocks = self.blocks
        if self.ordered and blocks:
            last = blocks[-1][0]
            if not (
                type(block.t) is int
                and block.t >= last.t
                and block.t + event_dur(block) >= last.t + event_dur(last)
            ):
                self.ordered = False
        blocks.append((block, place))

    def around(self, arrived: int, started: int) -> list[tuple[Event, str]]:
        """The blocks that may have kept a request arriving at ``arrived`` and starting at
        ``started`` from starting: those that began before its start and ended after it
        arrived, while the blocks follow each other; else all of them."""
        if not self.ordered:
            return list(self.blocks)
        found = []
        for block, place in reversed(self.blocks):
            if block.t + event_dur(block) <= arrived:
                break
            if block.t < started:
                found.append((block, place))
        return found

"""Lanes and their spans: the phase codes, ``Span``, ``Marker`` and ``Lane``.

A lane is one row of the timeline (a request, an event loop or a thread); its spans say which
phase it was in when. Pure data with a bisect index; imports only ``tracer.phases``.
"""

from __future__ import annotations

import bisect
import operator
from dataclasses import dataclass, field

from tracer.phases import CPU_BUSY_SHARE

__all__ = [
    "NONE",
    "WAITING",
    "ABANDONED",
    "QUEUED",
    "RUNNING",
    "SENDING",
    "BLOCKED",
    "ERROR",
    "PHASE_NAMES",
    "LEGEND_ORDER",
    "CPU_BUSY_SHARE",
    "REQUEST_LANE",
    "LOOP_LANE",
    "THREAD_LANE",
    "Span",
    "Marker",
    "Lane",
]

# Phase codes double as paint priorities: a higher code wins a cell it shares with a lower one.
NONE = 0
WAITING = 1
# After its client gave up (a timeout), the app's work went on for nobody: over the waiting it
# did then (a thread held in I/O, a suspended coroutine), under what it ran or sent, as the
# figures draw their dashed line under the app's steps.
ABANDONED = 2
QUEUED = 3
RUNNING = 4
SENDING = 5
BLOCKED = 6
ERROR = 7

PHASE_NAMES: tuple[str, ...] = (
    "idle",
    "waiting",
    "abandoned",
    "queued",
    "running",
    "sending",
    "blocked",
    "error",
)
"""Phase code -> label key (see ``tracer.tui.labels``)."""

LEGEND_ORDER: tuple[int, ...] = (QUEUED, RUNNING, WAITING, BLOCKED, SENDING, ERROR)
"""The order the legend lists phases in: the life of a request, then what goes wrong.
``ABANDONED`` is listed only where a lane has it (``tracer.tui.legend``)."""

# A thread span whose on-CPU share is below CPU_BUSY_SHARE is drawn as waiting (blocked in I/O,
# a lock, the GIL) rather than running: tracer.phases holds the rule.

_START_END = operator.attrgetter("start", "end")
"""A span's sort key (in C: a lane of a big recording has a hundred thousand spans)."""

REQUEST_LANE = "request"
LOOP_LANE = "loop"
THREAD_LANE = "thread"


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of time a lane spent in one phase."""

    start: int
    """Nanoseconds since the recording started."""
    end: int
    """End (``>= start``); an instant has ``end == start`` and still paints one cell."""
    phase: int
    """One of the phase codes (``RUNNING``...)."""
    req: int | None = None
    """The request this span belongs to (on a worker lane: the request holding the worker)."""
    cpu: float | None = None
    """On-CPU share of the span (0..1), when the recording says."""


@dataclass(frozen=True, slots=True)
class Marker:
    """An instant worth flagging on a lane (a protocol violation)."""

    t: int
    """When it happened."""
    text: str
    """The rule id and message."""
    hint: str = ""
    """How to fix it, as the checker recorded it (empty when it gave none)."""
    location: str = ""
    """``file:line`` of the app's code that broke the rule, when recorded."""


@dataclass(slots=True)
class Lane:
    """One row of the timeline: a request, an event loop or a thread."""

    key: str
    """Stable identity, e.g. ``req:12``, ``loop:1:140``, ``thread:1:141``."""
    label: str
    """What the lane is called on screen."""
    kind: str
    """``request``, ``loop`` or ``thread``."""
    spans: list[Span]
    """Sorted by start."""
    markers: list[Marker] = field(default_factory=list)
    """Violations on this lane, sorted by time."""
    req: int | None = None
    """The request of a by-request lane."""
    error: bool = False
    """The request ended with an error."""
    incomplete_at: int | None = None
    """A request the recording never saw end (``tracer.phases.unended``: the run was cut
    short): where what is known of it stops, its last event's end. None for one that ended."""
    in_flight: tuple[int, int] | None = None
    """A request still going while the run goes on (the live view): from where what is known
    of it stops (its last event's end) until now. Its spans stop there too: nothing says yet
    whether it runs or waits (a thread's ``sched.thread`` comes when its stretch is over)."""
    starts: list[int] = field(default_factory=list)
    """``span.start`` of each span, for bisecting the visible ones."""
    longest: int = 0
    """The longest span, so a bisect on starts never misses one that began off-screen."""
    overview: tuple[int, list[int]] | None = None
    """Lazily built ``(bucket_ns, phase per bucket)`` for drawing a zoomed-out lane."""
    flat: list[Span] | None = None
    """Lazily built: the spans as seen from above (the top phase at each instant, no overlaps,
    instants kept as zero-length spans), for weighing how much of a cell each phase covers."""
    shades: list[int] | None = None
    """Lazily built: the shade (0 or 1) of each of ``flat``'s pieces on a worker lane, which
    changes where the request holding the worker does: neighbouring requests never share one."""

    def __post_init__(self) -> None:
        self.spans.sort(key=_START_END)
        self.starts = [span.start for span in self.spans]
        self.longest = max((span.end - span.start for span in self.spans), default=0)
        # Built from the spans: rebuilt when they change.
        self.overview = self.flat = self.shades = None

    @property
    def start(self) -> int:
        """When the lane's first span begins, or its time in flight if sooner (0 for an empty
        lane)."""
        first = self.starts[0] if self.starts else None
        if self.in_flight is not None and (first is None or self.in_flight[0] < first):
            return self.in_flight[0]
        return first if first is not None else 0

    def visible_range(self, t0: int, t1: int) -> tuple[int, int]:
        """Indices ``lo, hi`` of ``spans`` that may overlap ``[t0, t1]``."""
        lo = bisect.bisect_left(self.starts, t0 - self.longest)
        hi = bisect.bisect_right(self.starts, t1)
        return lo, hi

    def span_at(self, t: int) -> Span | None:
        """The highest-priority span covering instant ``t``, if any."""
        lo, hi = self.visible_range(t, t)
        best: Span | None = None
        for span in self.spans[lo:hi]:
            if span.start <= t <= span.end and (best is None or span.phase > best.phase):
                best = span
        return best

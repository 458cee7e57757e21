"""Shapes read from a recording's events: the measures demos point at and their tests check.

Every function here takes a ``Recording`` (or its events) and returns numbers or moments,
scale-free where it can (a request "waited" when its queue time exceeds half the median time
it was served), so the same check holds for a full run and a reduced one. Imports the spine
only (events, recording, summary).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tracer import events as K
from tracer.events import Event
from tracer.recording import Recording
from tracer.summary import percentile, request_spans, summarize

__all__ = [
    "max_overlap",
    "peak_window",
    "middle",
    "in_flight_peak",
    "latency_ms",
    "peak_moment",
    "thread_spans",
    "threads_used",
    "processes_used",
    "first_wait",
    "blocked",
    "serialised",
    "cpu_parallelism",
    "nth_start",
]


def max_overlap(intervals: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """The most intervals open at one instant, and the first instant it happens.

    An interval ending exactly when another starts does not overlap it.
    """
    best, start, _ = peak_window(intervals)
    return best, start


def peak_window(intervals: Iterable[tuple[int, int]]) -> tuple[int, int, int]:
    """The most intervals open at once, and when that first begins and ends."""
    edges: list[tuple[int, int]] = []
    for start, end in intervals:
        edges.append((start, 1))
        edges.append((end, -1))
    edges.sort()
    current = best = 0
    begin = finish = 0
    for t, delta in edges:
        if current == best and delta < 0 and finish == begin and best:
            finish = t  # the first peak ends here
        current += delta
        if current > best:
            best, begin, finish = current, t, t
    return best, begin, finish


def middle(window: tuple[int, int, int]) -> int:
    """The middle of a ``peak_window`` (a bookmark there shows the peak, not its edge)."""
    return (window[1] + window[2]) // 2


def _request_intervals(recording: Recording) -> list[tuple[int, int]]:
    last = recording.events[-1].end if recording.events else 0
    return [
        (span.start, span.end if span.end is not None else last)
        for span in request_spans(recording.events).values()
        if span.start is not None
    ]


def in_flight_peak(recording: Recording) -> int:
    """Most requests between ``request.start`` and ``request.end`` at once (summary figure)."""
    return int(summarize(recording)["max_in_flight"])


def latency_ms(recording: Recording, key: str = "p50") -> float:
    """One latency figure of the summary (``p50``, ``p99``, ``mean``, ...), in ms."""
    return float(summarize(recording)["latency_ms"][key])


def peak_moment(recording: Recording) -> int:
    """The middle of the first stretch with the most requests in flight."""
    return middle(peak_window(_request_intervals(recording)))


def thread_spans(recording: Recording, via: str | None = None) -> list[Event]:
    """``sched.thread`` events (only those hopped ``via`` that entry point, if given)."""
    return [
        e
        for e in recording.events
        if e.kind == K.SCHED_THREAD and (via is None or str(e.data.get("via", "")).startswith(via))
    ]


def threads_used(recording: Recording, via: str | None = None) -> set[tuple[int, int]]:
    """The distinct (pid, tid) that ran request code on a thread."""
    return {(e.pid, e.tid) for e in thread_spans(recording, via)}


def processes_used(recording: Recording) -> set[int]:
    """The distinct pids that ran request code on a thread."""
    return {e.pid for e in thread_spans(recording)}


def first_wait(recording: Recording) -> tuple[int, int] | None:
    """The first request that waited to be served: ``(req, when its wait began)``, or None.

    Waiting means its queue time (``request.queued`` to ``request.start``) exceeds half the
    median time requests spent being served, so the test needs no absolute threshold. The
    time is when it was queued: a bookmark there shows the request waiting, as its caption
    says, not the moment the wait is over.
    """
    spans = [
        s
        for s in request_spans(recording.events).values()
        if s.queued is not None and s.start is not None and s.end is not None
    ]
    if not spans:
        return None
    served = sorted(s.end - s.start for s in spans)  # type: ignore[operator]
    bar = percentile(served, 50) / 2
    for span in sorted(spans, key=lambda s: (s.queued, s.req)):
        if span.start - span.queued > bar:  # type: ignore[operator]
            return span.req, int(span.queued)  # type: ignore[arg-type]
    return None


def blocked(recording: Recording) -> list[Event]:
    """``loop.blocked`` events in time order."""
    return [e for e in recording.events if e.kind == K.LOOP_BLOCKED]


def serialised(events: Sequence[Event]) -> bool:
    """True when no two of ``events`` overlap in time (each ends before the next starts)."""
    ordered = sorted(events, key=lambda e: e.t)
    return all(a.end <= b.t for a, b in zip(ordered, ordered[1:], strict=False))


def cpu_parallelism(recording: Recording) -> float:
    """CPU time of request code on threads divided by the time those threads spanned.

    About 1.0 or less when one GIL lets one thread run at a time; near the number of cores
    when processes compute side by side.
    """
    spans = thread_spans(recording)
    if not spans:
        return 0.0
    wall = max(e.end for e in spans) - min(e.t for e in spans)
    cpu = sum(int(e.data.get("cpu_ns") or 0) for e in spans)
    return cpu / wall if wall > 0 else 0.0


def nth_start(recording: Recording, n: int) -> tuple[int, int] | None:
    """The ``n``-th request (1-based) to arrive: ``(req, its arrival time)``, or None."""
    spans = sorted(
        (s.arrived, s.req)
        for s in request_spans(recording.events).values()
        if s.arrived is not None
    )
    if len(spans) < n:
        return None
    t, req = spans[n - 1]
    return req, t

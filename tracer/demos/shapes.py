"""Shapes read from a recording's events: the measures demos point at and their tests check.

Every function here takes a ``Recording`` (or its events) and returns numbers or moments,
scale-free where it can (a request "waited" when its queue time exceeds half the median time
it was served), so the same check holds for a full run and a reduced one. Imports the spine
only (events, recording, summary).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tracer import events as K
from tracer.events import Event
from tracer.phases import THREAD_HOPS, thread_waits
from tracer.recording import Recording
from tracer.summary import percentile, request_spans, sample_sizes, summarize

__all__ = [
    "max_overlap",
    "peak_window",
    "middle",
    "in_flight_peak",
    "latency_ms",
    "summary_of",
    "measured_latency_ms",
    "longest_thread_wait_ms",
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


_SUMMARIES: dict[tuple[int, int, int], tuple[Recording, dict[str, Any]]] = {}
"""Recent summaries by recording (its identity, its events' list and their count): a demo's
checks, figures and notes read a dozen figures of the same two recordings, and summarizing
c10k's 10,000 requests takes most of a second each time."""

_KEPT = 8


def summary_of(recording: Recording) -> dict[str, Any]:
    """``tracer.summary.summarize(recording)``, made once per recording while it is unchanged
    (the recording is kept with it, so its identity is not reused meanwhile)."""
    key = (id(recording), id(recording.events), len(recording.events))
    hit = _SUMMARIES.get(key)
    if hit is not None and hit[0] is recording:
        return hit[1]
    summary = summarize(recording)
    if len(_SUMMARIES) >= _KEPT:
        del _SUMMARIES[next(iter(_SUMMARIES))]
    _SUMMARIES[key] = (recording, summary)
    return summary


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
    return int(summary_of(recording)["max_in_flight"])


def latency_ms(recording: Recording, key: str = "p50") -> float:
    """One latency figure of the summary (``p50``, ``p99``, ``mean``, ...), in ms."""
    return float(summary_of(recording)["latency_ms"][key])


def measured_latency_ms(
    recordings: Sequence[Recording], keys: Sequence[str], names: Sequence[str]
) -> dict[str, float]:
    """The latency figures ``keys`` of each recording, as ``{key}_ms_{name}`` (``names`` one
    per recording), leaving out each one its sample does not measure
    (``tracer.report.measures``: a p99 of 80 requests would read as a tail they do not have),
    as the report, the summary panel and the HTML table leave it out."""
    from tracer.report import measures  # the report's rule; rich is loaded only when asked

    figures: dict[str, float] = {}
    for recording, name in zip(recordings, names, strict=True):
        values = sample_sizes(request_spans(recording.events))["latency_ms"]
        latency = summary_of(recording)["latency_ms"]
        for key in keys:
            if measures(key, values):
                figures[f"{key}_ms_{name}"] = float(latency[key])
    return figures


def longest_thread_wait_ms(recording: Recording) -> float:
    """The longest a request waited for a thread to run its code (``tracer.phases``'s
    ``thread_waits``: a hop asked for, not started yet), in ms; 0 when none waited."""
    asks: dict[int, list[Event]] = {}
    hops: dict[int, list[Event]] = {}
    for e in recording.events:
        if e.req is None:
            continue
        if e.kind == K.SCHED_STEP and isinstance(e.data, dict):
            if e.data.get("awaiting") in THREAD_HOPS:
                asks.setdefault(e.req, []).append(e)
        elif e.kind == K.SCHED_THREAD:
            hops.setdefault(e.req, []).append(e)
    longest = max(
        (w.end - w.start for req in asks for w in thread_waits(asks[req], hops.get(req, []))),
        default=0,
    )
    return round(longest / 1e6, 1)


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

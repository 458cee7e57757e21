"""Shapes read from events: overlap, waiting, blocking, GIL parallelism (hand-built events)."""

from __future__ import annotations

from tracer import events as K
from tracer.demos.shapes import (
    blocked,
    cpu_parallelism,
    first_wait,
    max_overlap,
    nth_start,
    peak_moment,
    peak_window,
    serialised,
    threads_used,
)
from tracer.events import Event
from tracer.recording import Recording

MS = 1_000_000


def _recording(*rows: tuple[str, int | None, int, int | None, dict[str, object], int]) -> Recording:
    events = [
        Event(seq=i, t=t, kind=kind, req=req, dur=dur, data=data, tid=tid)
        for i, (kind, req, t, dur, data, tid) in enumerate(rows)
    ]
    recording = Recording({}, events)
    recording.sort()
    return recording


def _served(req: int, queued: int, start: int, end: int, tid: int = 1) -> list:
    return [
        (K.REQUEST_QUEUED, req, queued, None, {}, tid),
        (K.REQUEST_START, req, start, None, {"scope_type": "http"}, tid),
        (K.SCHED_THREAD, req, start, end - start, {"cpu_ns": (end - start) // 4}, tid),
        (K.REQUEST_END, req, end, None, {"status": 200}, tid),
    ]


def test_max_overlap_counts_touching_intervals_as_apart() -> None:
    """Back-to-back intervals do not overlap; the first instant of the peak is reported."""
    assert max_overlap([(0, 10), (10, 20)]) == (1, 0)
    assert max_overlap([(0, 10), (5, 20), (6, 8)]) == (3, 6)
    assert peak_window([(0, 10), (5, 20), (6, 8)]) == (3, 6, 8)


def test_first_wait_finds_the_request_that_queued_for_a_thread() -> None:
    """Two threads, three requests at t=0: the third waits from its arrival (where the
    bookmark goes: the wait begins), until the first ends."""
    rec = _recording(
        *_served(1, 0, 0, 100 * MS, tid=1),
        *_served(2, 0, 0, 100 * MS, tid=2),
        *_served(3, 0, 100 * MS, 200 * MS, tid=1),
    )
    assert first_wait(rec) == (3, 0)
    assert threads_used(rec) == {(0, 1), (0, 2)}
    assert nth_start(rec, 3) == (3, 0)
    assert peak_moment(rec) == 50 * MS


def test_no_wait_when_every_request_starts_on_arrival() -> None:
    """Requests that never queue give no wait."""
    rec = _recording(*_served(1, 0, 0, 10 * MS), *_served(2, 5 * MS, 5 * MS, 15 * MS, tid=2))
    assert first_wait(rec) is None


def test_blocking_steps_in_a_row_are_serialised_and_overlapping_ones_are_not() -> None:
    """``serialised`` is true only when each block ends before the next begins."""
    rec = _recording(
        (K.LOOP_BLOCKED, 1, 0, 10 * MS, {}, 1),
        (K.LOOP_BLOCKED, 2, 10 * MS, 10 * MS, {}, 1),
    )
    assert serialised(blocked(rec))
    rec = _recording(
        (K.LOOP_BLOCKED, 1, 0, 10 * MS, {}, 1),
        (K.LOOP_BLOCKED, 2, 5 * MS, 10 * MS, {}, 1),
    )
    assert not serialised(blocked(rec))


def test_cpu_parallelism_is_cpu_over_span() -> None:
    """Two threads each on CPU for the whole of one 10 ms span: parallelism 2."""
    rec = _recording(
        (K.SCHED_THREAD, 1, 0, 10 * MS, {"cpu_ns": 10 * MS}, 1),
        (K.SCHED_THREAD, 2, 0, 10 * MS, {"cpu_ns": 10 * MS}, 2),
    )
    assert cpu_parallelism(rec) == 2.0
    assert cpu_parallelism(Recording({}, [])) == 0.0

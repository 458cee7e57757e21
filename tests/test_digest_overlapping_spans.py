"""A thread's busy time counts each instant once: spans of one thread that overlap in time (a
recording of an older version, whose nested hops on one thread each had their own
``sched.thread``, or events of two recorders) are merged, not added up.

Before, an outer hop of 10 ms with a 4 ms hop inside it on the same thread read 14 ms busy in a
10 ms run: the thread more than 100% busy (its utilisation cut at 100%).
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from tracer import events as K
from tracer.digest import Digest, Worker
from tracer.recorder import Recorder
from tracer.recording import Recording

MS = 1_000_000
LOOP: dict[str, Any] = {"pid": 7, "tid": 1, "thread": "event-loop"}
POOL: dict[str, Any] = {"pid": 7, "tid": 2, "thread": "worker"}
START = {"method": "GET", "path": "/", "query": "", "scope_type": "http"}


def _hop(recorder: Recorder, req: int, t: int, dur: int, cpu: int, via: str) -> None:
    recorder.emit(K.SCHED_THREAD, req, {"cpu_ns": cpu, "via": via}, t=t, dur=dur, **POOL)


def _nested() -> Recording:
    """Request 1 (0 to 10 ms) hops to the pool thread for 10 ms (0 to 10, 8 ms on CPU), and an
    older version recorded a 4 ms hop inside it (2 to 6, 4 ms on CPU) apart, before it, as it
    ended first; request 2 (20 to 30 ms) hops there twice, 3 ms and 4 ms one after the other,
    each recorded twice (two recorders)."""
    recorder = Recorder(app="app:app", interface="asgi")
    recorder.emit(K.REQUEST_START, 1, START, t=0, **LOOP)
    _hop(recorder, 1, 2 * MS, 4 * MS, 4 * MS, "asyncio.to_thread")
    _hop(recorder, 1, 0, 10 * MS, 8 * MS, "run_in_executor")
    recorder.emit(K.REQUEST_END, 1, {"status": 200}, t=10 * MS, **LOOP)
    recorder.emit(K.REQUEST_START, 2, START, t=20 * MS, **LOOP)
    for _ in range(2):
        _hop(recorder, 2, 21 * MS, 3 * MS, 3 * MS, "run_in_executor")
        _hop(recorder, 2, 24 * MS, 4 * MS, 2 * MS, "run_in_executor")
    recorder.emit(K.REQUEST_END, 2, {"status": 200}, t=30 * MS, **LOOP)
    return recorder.recording()


def _pool_row(workers: list[Worker]) -> tuple[float, float, float]:
    (row,) = [worker for worker in workers if worker.thread == "worker"]
    return row.busy_ms, row.cpu_ms, row.utilisation


@pytest.mark.parametrize("order", ["recorded", "reversed", "shuffled"])
def test_overlapping_spans_of_one_thread_count_each_instant_once(order: str) -> None:
    """17 ms busy in the 30 ms run (10 + 3 + 4), not 28; on CPU, the outer hop's 8 ms (the
    inner hop's time was within it) and 5 ms of request 2's hops, counted once."""
    fed = list(_nested().events)
    if order == "reversed":
        fed.reverse()
    elif order == "shuffled":
        random.Random(5).shuffle(fed)
    digest = Digest()
    for first in range(0, len(fed), 3):
        digest.feed(fed[first : first + 3])
    assert _pool_row(digest.details().workers) == (17.0, 13.0, round(17 / 30, 4))


def test_a_span_that_overlaps_in_part_adds_its_time_outside_the_others() -> None:
    """Two hops on one thread, 0-6 ms and 4-10 ms (6 ms on CPU each): 10 ms busy, and of the
    second only the 2/3 of its CPU time that falls outside the first."""
    recorder = Recorder(app="app:app", interface="asgi")
    recorder.emit(K.REQUEST_START, 1, START, t=0, **LOOP)
    _hop(recorder, 1, 0, 6 * MS, 6 * MS, "run_in_executor")
    _hop(recorder, 1, 4 * MS, 6 * MS, 6 * MS, "run_in_executor")
    recorder.emit(K.REQUEST_END, 1, {"status": 200}, t=20 * MS, **LOOP)
    digest = Digest()
    digest.feed(recorder.recording().events)
    assert _pool_row(digest.details().workers) == (10.0, 10.0, 0.5)


def test_spans_that_follow_each_other_still_add_up() -> None:
    """A loop's steps back to back, and a callback that held the loop between two of them
    (``outside_step``): all of their time, as before."""
    recorder = Recorder(app="app:app", interface="asgi")
    recorder.emit(K.REQUEST_START, 1, START, t=0, **LOOP)
    for at in range(0, 10 * MS, 2 * MS):
        recorder.emit(K.SCHED_STEP, 1, {"cpu_ns": MS}, t=at, dur=2 * MS, **LOOP)
    callback = {"location": None, "delayed": [1], "outside_step": True}
    recorder.emit(K.LOOP_BLOCKED, None, callback, t=10 * MS, dur=15 * MS, **LOOP)
    recorder.emit(K.REQUEST_END, 1, {"status": 200}, t=25 * MS, **LOOP)
    digest = Digest()
    digest.feed(recorder.recording().events)
    (loop,) = digest.details().workers
    assert (loop.busy_ms, loop.cpu_ms, loop.utilisation) == (25.0, 5.0, 1.0)

"""A coroutine's wait for a thread to run its code (a thread-pool token, a thread being made)
is ``queued``, as a WSGI request's wait for a worker thread is: from the step that suspended
awaiting the hop to the start of the hop's ``sched.thread``."""

from __future__ import annotations

from tests.demos.demo_cache import simulated
from tracer import events as K
from tracer.events import Event
from tracer.phases import QUEUED, RUNNING, WAITING, request_phases
from tracer.recording import Recording

MS = 1_000_000


def _of(recording: Recording, req: int) -> list[Event]:
    return [e for e in recording.events if e.req == req]


def _queued(events: list[Event]) -> list[tuple[int, int]]:
    spans = request_phases(events, 10**12)
    return [(s.start, s.end) for s in spans if s.phase == QUEUED and s.end > s.start]


def test_the_41st_request_queues_for_a_token_in_the_simulated_demo() -> None:
    demo = simulated("threadpool-offload")
    fifty = demo.recordings[1]
    events = _of(fifty, 41)
    hop = next(e for e in events if e.kind == K.SCHED_THREAD)
    asked = next(e for e in events if e.kind == K.SCHED_STEP)
    assert asked.data["awaiting"] == "anyio.to_thread.run_sync"
    assert _queued(events)[0] == (asked.t + (asked.dur or 0), hop.t)
    assert hop.t - asked.t == 500 * MS
    # 40 clients: a token for everyone, so nobody queues for a thread.
    forty = demo.recordings[0]
    assert all(not _queued(_of(forty, req)) for req in range(1, 81))


def _event(seq: int, kind: str, t: int, dur: int | None = None, **data: object) -> Event:
    return Event(
        seq=seq,
        t=t,
        kind=kind,
        req=1,
        pid=1,
        tid=2 if kind != K.SCHED_THREAD else 3,
        thread="event-loop",
        task="request-1" if kind != K.SCHED_THREAD else None,
        dur=dur,
        data=dict(data),
    )


def test_a_hop_awaited_over_several_steps_queues_from_the_first() -> None:
    """As a real anyio hop records it: three steps awaiting ``run_sync`` (anyio's checkpoint,
    the token) before the thread starts; the steps are drawn over the wait, the wait runs from
    the first step's end to the thread's start; the second hop starts at once: no wait."""
    run_sync = "anyio.to_thread.run_sync"
    events = [
        _event(1, K.REQUEST_START, 0),
        _event(2, K.SCHED_STEP, 0, 1 * MS, cpu_ns=MS, awaiting=run_sync),
        _event(3, K.SCHED_STEP, 5 * MS, 1 * MS, cpu_ns=MS, awaiting=run_sync),
        _event(4, K.SCHED_STEP, 70 * MS, 1 * MS, cpu_ns=MS, awaiting=run_sync),
        _event(5, K.SCHED_THREAD, 80 * MS, 500 * MS, cpu_ns=0, via="anyio.to_thread"),
        _event(6, K.SCHED_STEP, 581 * MS, 1 * MS, cpu_ns=MS, awaiting=run_sync),
        _event(7, K.SCHED_THREAD, 582 * MS - 1, 10, cpu_ns=10, via="anyio.to_thread"),
        _event(8, K.SCHED_STEP, 583 * MS, 1 * MS, cpu_ns=MS, awaiting=None),
        _event(9, K.REQUEST_END, 584 * MS, status=200),
    ]
    spans = request_phases(events, 10**12)
    assert _queued(events) == [(1 * MS, 80 * MS)]
    running = [(s.start, s.end) for s in spans if s.phase == RUNNING]
    assert (5 * MS, 6 * MS) in running and (70 * MS, 71 * MS) in running
    # The thread's stretch asleep (time.sleep) is waiting, as before.
    assert (80 * MS, 580 * MS) in [(s.start, s.end) for s in spans if s.phase == WAITING]


def test_a_step_awaiting_something_else_queues_nothing() -> None:
    events = [
        _event(1, K.REQUEST_START, 0),
        _event(2, K.SCHED_STEP, 0, 1 * MS, cpu_ns=MS, awaiting="asyncio.sleep"),
        _event(3, K.SCHED_THREAD, 50 * MS, 5 * MS, cpu_ns=5 * MS, via="anyio.to_thread"),
        _event(4, K.SCHED_STEP, 60 * MS, 1 * MS, cpu_ns=MS, awaiting=None),
        _event(5, K.REQUEST_END, 61 * MS, status=200),
    ]
    assert _queued(events) == []

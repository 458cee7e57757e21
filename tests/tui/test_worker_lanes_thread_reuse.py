"""By worker, a thread id a later thread was given is a lane per thread, named after each.

Python gives an ended thread's id to a later thread: a server that runs each request's sync
code on a one-thread executor of its own (Django's ASGI handler) reuses a few ids for as many
threads as requests. Each thread is a lane of its own, and finds its own row of the report.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tracer import events as K
from tracer import instrument
from tracer.digest import thread_key
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.recording import Recording, make_header
from tracer.tui.app import ReplayApp
from tracer.tui.model import build_model

MS = 1_000_000
LOOP, POOL = 7, 9


def _reused_id() -> Recording:
    """Two requests on one loop; each hops twice to a thread of its own, both given id 9."""
    events: list[Event] = []

    def add(kind: str, req: int, t: int, tid: int, thread: str, **data: Any) -> None:
        dur = None if kind == K.REQUEST_START else MS
        events.append(Event(len(events), t, kind, req, 1000, tid, thread, dur=dur, data=data))

    for req, pool in ((1, "ThreadPoolExecutor-0_0"), (2, "ThreadPoolExecutor-1_0")):
        at = (req - 1) * 20 * MS
        add(K.REQUEST_START, req, at, LOOP, "MainThread", scope_type="http", path="/")
        add(K.SCHED_STEP, req, at, LOOP, "MainThread", cpu_ns=MS)
        add(K.SCHED_THREAD, req, at + 2 * MS, POOL, pool, cpu_ns=MS, via="run_in_executor")
        add(K.SCHED_THREAD, req, at + 4 * MS, POOL, pool, cpu_ns=MS, via="run_in_executor")
        add(K.SCHED_STEP, req, at + 6 * MS, LOOP, "MainThread", cpu_ns=MS)
        add(K.REQUEST_END, req, at + 7 * MS, LOOP, "MainThread", status=200)
    return Recording(make_header(interface="asgi", server={"model": "loop"}), events)


def test_threads_given_one_id_are_lanes_of_their_own_each_with_its_row() -> None:
    """Two executor threads with id 9: two lanes (keys apart), each holding its own request's
    hops and finding its own Workers row."""
    model = build_model(_reused_id())
    lanes = model.by_worker
    assert [lane.label for lane in lanes] == [
        "loop MainThread",
        "ThreadPoolExecutor-0_0",
        "ThreadPoolExecutor-1_0",
    ]
    assert len({lane.key for lane in lanes}) == 3
    assert lanes[0].key == f"loop:1000:{LOOP}"  # a thread alone on its id keeps its key
    for lane, req in zip(lanes[1:], (1, 2), strict=True):
        assert [(span.start, span.req) for span in lane.spans] == [
            ((req - 1) * 20 * MS + 2 * MS, req),
            ((req - 1) * 20 * MS + 4 * MS, req),
        ]
        row = model.worker(lane)
        assert row is not None
        assert (row.tid, row.thread, row.name, row.requests) == (POOL, lane.label, lane.label, 1)
        assert row.busy_ms == 2.0


async def per_request_executor_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Each request: three hops to a one-thread executor of its own, shut down at its end."""
    if scope["type"] != "http":
        return
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(max_workers=1)
    try:
        for _ in range(3):
            await loop.run_in_executor(executor, sum, range(100))
    finally:
        executor.shutdown(wait=True)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _serve(app: Any, count: int) -> None:
    """``count`` GET requests to ``app``, one after the other (each executor's thread has
    ended before the next request makes its own, so its id is free again)."""
    for _ in range(count):
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any], sent: list[dict[str, Any]] = sent) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/",
            "raw_path": b"/",
            "query_string": b"",
            "root_path": "",
            "headers": [],
            "client": ("127.0.0.1", 5000),
            "server": ("127.0.0.1", 8000),
        }
        await app(scope, receive, send)
        assert sent[0]["status"] == 200


def test_a_real_app_with_an_executor_per_request_has_a_lane_per_thread() -> None:
    """Six requests, each with an executor thread of its own: six thread lanes however few ids
    the threads had, each with its own request's three hops and its own report row."""
    recorder = Recorder()
    try:
        asyncio.run(_serve(instrument(per_request_executor_app, recorder=recorder), 6))
        recording = recorder.recording()
    finally:
        recorder.close()
    hops = [e for e in recording.events if e.kind == K.SCHED_THREAD]
    names_by_id: dict[int, set[str]] = defaultdict(set)
    for hop in hops:
        names_by_id[hop.tid].add(hop.thread)
    if all(len(names) == 1 for names in names_by_id.values()):
        pytest.skip("no thread id was given to a later thread on this platform")
    model = build_model(recording)
    lanes = [lane for lane in model.by_worker if lane.kind == "thread"]
    assert sorted(lane.label for lane in lanes) == sorted({hop.thread for hop in hops})
    for lane in lanes:
        own = [hop for hop in hops if hop.thread == lane.label]
        assert [(span.start, span.req) for span in lane.spans] == [(h.t, h.req) for h in own]
        row = model.worker(lane)
        assert row is not None and row.key == thread_key(own[0]) and row.requests == 1


@pytest.mark.anyio
async def test_the_worker_view_shows_a_lane_per_thread_of_a_reused_id() -> None:
    """``v`` in the replay: the lanes of both threads given id 9, each named after itself."""
    app = ReplayApp([_reused_id()])
    async with app.run_test(size=(120, 20)) as pilot:
        await pilot.pause()
        await pilot.press("v")
        await pilot.pause()
        labels = [lane.label for lane in app.screen.timeline.lanes]  # type: ignore[attr-defined]
    assert labels == ["loop MainThread", "ThreadPoolExecutor-0_0", "ThreadPoolExecutor-1_0"]

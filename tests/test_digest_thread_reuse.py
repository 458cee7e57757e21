"""Workers rows: a thread id a later thread was given is a row per thread, and a thread's
``requests`` counts requests, not the hops each made to it.

Python gives an ended thread's id to a later thread. A server that runs each request's sync
code on a one-thread executor of its own (Django's ASGI handler, through asgiref's
``sync_to_async``, three hops a view) reuses a few ids for as many threads as requests.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tracer import events as K
from tracer import instrument
from tracer.digest import Digest, thread_key
from tracer.events import Event
from tracer.recorder import Recorder

HOPS = 3
REQUESTS = 6


async def per_request_executor_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Each request: three hops to a one-thread executor of its own, shut down at its end."""
    if scope["type"] != "http":
        return
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(max_workers=1)
    try:
        for _ in range(HOPS):
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


def test_threads_of_a_reused_id_are_rows_of_their_own_each_serving_one_request() -> None:
    """Six requests, each with its own executor thread of three hops: six thread rows (however
    few ids the threads had), each with 1 request and the busy time of its own hops."""
    recorder = Recorder()
    try:
        asyncio.run(_serve(instrument(per_request_executor_app, recorder=recorder), REQUESTS))
        recorder.drain()
        events = recorder.events
    finally:
        recorder.close()
    hops = [e for e in events if e.kind == K.SCHED_THREAD]
    assert len(hops) == HOPS * REQUESTS
    names_by_id: dict[int, set[str]] = defaultdict(set)
    for hop in hops:
        names_by_id[hop.tid].add(hop.thread)
    if all(len(names) == 1 for names in names_by_id.values()):
        pytest.skip("no thread id was given to a later thread on this platform")
    digest = Digest()
    digest.feed(events)
    rows = {row.thread: row for row in digest.details().workers if row.tid in names_by_id}
    assert sorted(rows) == sorted({hop.thread for hop in hops})
    assert len(rows) == REQUESTS
    for name, row in rows.items():
        own = [hop for hop in hops if hop.thread == name]
        assert {hop.req for hop in own} == {own[0].req}
        assert row.requests == 1
        assert row.key == thread_key(own[0])
        assert row.busy_ms == round(sum(hop.dur or 0 for hop in own) / 1_000_000, 3)
    # Each row's shown name is its thread's own: none numbered as a namesake of another.
    assert {row.name for row in rows.values()} == set(rows)


def _emit(
    recorder: Recorder, kind: str, req: int, t: int, tid: int, thread: str, **data: Any
) -> None:
    recorder.emit(kind, req, data, t=t, dur=1_000_000, tid=tid, thread=thread, pid=1000)


def _recorded(build: Any) -> list[Event]:
    recorder = Recorder()
    try:
        build(recorder)
        recorder.drain()
        return list(recorder.events)
    finally:
        recorder.close()


def test_a_thread_counts_each_request_once_and_again_only_when_it_returns_after_another() -> None:
    """On one offload thread: request 1 hops three times, then request 2 twice, then 1 once
    more. The loop thread started both. Counts: the loop 2; the offload thread 3 (1, 2, and 1
    again on its return after 2's hops: one id kept per thread, so an interleaved request is
    counted at each return, never fewer than the requests it served)."""

    def build(recorder: Recorder) -> None:
        t = 0
        for req in (1, 2):
            _emit(recorder, K.REQUEST_START, req, t, 7, "loop", scope_type="http")
            t += 1
        for req in (1, 1, 1, 2, 2, 1):
            _emit(recorder, K.SCHED_THREAD, req, t, 9, "pool_0", cpu_ns=0, via="run_in_executor")
            t += 2_000_000

    digest = Digest()
    digest.feed(_recorded(build))
    rows = {row.thread: row.requests for row in digest.details().workers}
    assert rows == {"loop": 2, "pool_0": 3}


def test_a_name_change_at_one_id_is_a_new_thread_and_namesakes_are_numbered() -> None:
    """One id used by "A", then "B": two rows, each with its own busy time and request. Two
    threads of one name with ids of their own stay numbered namesakes (``#1``, ``#2``)."""

    def build(recorder: Recorder) -> None:
        _emit(recorder, K.SCHED_THREAD, 1, 0, 5, "A", cpu_ns=0, via="asyncio.to_thread")
        _emit(recorder, K.SCHED_THREAD, 2, 10_000_000, 5, "B", cpu_ns=0, via="asyncio.to_thread")
        _emit(recorder, K.SCHED_THREAD, 2, 11_000_000, 5, "B", cpu_ns=0, via="asyncio.to_thread")
        _emit(recorder, K.SCHED_THREAD, 3, 20_000_000, 6, "w", cpu_ns=0, via="asyncio.to_thread")
        _emit(recorder, K.SCHED_THREAD, 4, 30_000_000, 8, "w", cpu_ns=0, via="asyncio.to_thread")

    digest = Digest()
    digest.feed(_recorded(build))
    rows = {
        row.name: (row.tid, row.thread, row.requests, row.busy_ms)
        for row in digest.details().workers
    }
    assert rows == {
        "A": (5, "A", 1, 1.0),
        "B": (5, "B", 1, 2.0),
        "w #1": (6, "w", 1, 1.0),
        "w #2": (8, "w", 1, 1.0),
    }

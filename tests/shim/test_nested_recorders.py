"""Shims of two recorders nested around one app: each recorder records the request in full."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from shim_asgi_apps import get

import tracer
from tracer import events as K

pytestmark = pytest.mark.timeout(60)

_STEP_KINDS = (K.SCHED_STEP, K.LOOP_BLOCKED, K.SCHED_THREAD)


def _app() -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def passthrough(request: Any, call_next: Any) -> Any:
        return await call_next(request)  # the endpoint runs in a task of its own

    @app.get("/")
    async def home() -> dict[str, int]:
        # Long enough for the watchdog's samples to name the line on a busy machine.
        time.sleep(0.15)  # nested: blocks
        await asyncio.to_thread(time.sleep, 0.001)  # nested: hops
        return {"ok": 1}

    return app


def line_of(marker: str) -> int:
    """The line number in this file of the line ending with ``# <marker>``."""
    for number, line in enumerate(Path(__file__).read_text(encoding="utf-8").splitlines(), 1):
        if line.rstrip().endswith(f"# {marker}"):
            return number
    raise LookupError(marker)


def test_the_outer_recorder_sees_steps_blocks_and_hops_of_the_request_and_its_tasks() -> None:
    """``instrument(instrument(app, recorder=inner), recorder=outer)``: the outer recorder
    gets what the inner one gets: the endpoint's steps in the middleware's task at the app's
    lines, awaiting ``asyncio.to_thread``, the ``loop.blocked`` at the ``time.sleep`` and the
    ``sched.thread`` of the hop, with the task's name."""
    inner, outer = tracer.Recorder(), tracer.Recorder()
    # A 50 ms threshold under the app's 150 ms block keeps steps a busy machine only slowed
    # (and callbacks outside any step) out of the recording; the block is told by its line.
    slow = {"block_threshold_ms": 50}
    wrapped = tracer.instrument(
        tracer.instrument(_app(), recorder=inner, **slow), recorder=outer, **slow
    )
    assert get(wrapped).json() == {"ok": 1}
    blocks = f"/test_nested_recorders.py:{line_of('nested: blocks')}"
    hops = f"/test_nested_recorders.py:{line_of('nested: hops')}"
    for rec in (inner, outer):
        starts = [e for e in rec.events if e.kind == K.REQUEST_START]
        assert len(starts) == 1
        blocked = [
            e
            for e in rec.events
            if e.kind == K.LOOP_BLOCKED and str(e.data["location"]).endswith(blocks)
        ]
        assert len(blocked) == 1  # recorded once in each recorder, not once per shim
        assert blocked[0].req == starts[0].req
        assert blocked[0].task != starts[0].task  # the middleware's task, named
        threads = [e for e in rec.events if e.kind == K.SCHED_THREAD]
        assert [e.data["via"] for e in threads] == ["asyncio.to_thread"]
        assert threads[0].req == starts[0].req
        at_hop = [
            e
            for e in rec.events
            if e.kind == K.SCHED_STEP and str(e.data["location"]).endswith(hops)
        ]
        assert [e.data["awaiting"] for e in at_hop] == ["asyncio.to_thread"]
        assert at_hop[0].task == blocked[0].task


def test_the_outer_recorders_root_steps_name_the_apps_await() -> None:
    """A raw app under two recorders: the outer recorder's steps of the request's own
    coroutine name what the app awaits and where, through the inner shim's step proxy."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await asyncio.sleep(0.001)  # nested: root sleeps
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x"})

    inner, outer = tracer.Recorder(), tracer.Recorder()
    wrapped = tracer.instrument(tracer.instrument(app, recorder=inner), recorder=outer)
    assert get(wrapped).content == b"x"
    line = f"/test_nested_recorders.py:{line_of('nested: root sleeps')}"
    for rec in (inner, outer):
        steps = [e.data for e in rec.events if e.kind == K.SCHED_STEP]
        assert steps[0]["awaiting"] == "asyncio.sleep"
        assert steps[0]["location"].endswith(line)
        assert steps[-1]["location"] is None


def test_one_recorder_twice_still_records_each_task_once() -> None:
    """The same recorder at both levels records one request, each task step once."""
    rec = tracer.Recorder()
    once = tracer.Recorder()
    # The app blocks 150 ms; a 100 ms threshold keeps a step slowed by a busy machine out.
    slow = {"block_threshold_ms": 100}
    assert get(tracer.instrument(_app(), recorder=once, **slow)).status_code == 200
    twice = tracer.instrument(
        tracer.instrument(_app(), recorder=rec, checks=False, **slow), recorder=rec, **slow
    )
    assert get(twice).status_code == 200
    # As many of each, in whatever order: the hop's thread and the loop append them each on
    # its own thread, which a busy machine may order either way.
    kinds = sorted(e.kind for e in rec.events if e.kind in (K.SCHED_THREAD, K.LOOP_BLOCKED))
    assert kinds == sorted(
        e.kind for e in once.events if e.kind in (K.SCHED_THREAD, K.LOOP_BLOCKED)
    )
    assert kinds == [K.LOOP_BLOCKED, K.SCHED_THREAD]


def test_each_recorders_block_lists_only_its_own_delayed_requests() -> None:
    """Two requests under two recorders, one sleeping while the other blocks the loop: each
    recorder's ``loop.blocked`` names as delayed the sleeping request by its own id, never
    the id the other recorder gave it (the outer recorder's ids are offset by earlier
    requests, so the two numberings differ)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["path"] == "/block":
            time.sleep(0.06)
        else:
            await asyncio.sleep(0.005)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x"})

    inner, outer = tracer.Recorder(), tracer.Recorder()
    for _ in range(5):  # the outer recorder's numbering runs ahead of the inner one's
        assert get(tracer.instrument(app, recorder=outer), "/first").status_code == 200
    wrapped = tracer.instrument(tracer.instrument(app, recorder=inner), recorder=outer)

    async def call(path: str) -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [],
            "client": None,
            "server": None,
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            pass

        await wrapped(scope, receive, send)

    async def both() -> None:
        sleeper = asyncio.ensure_future(call("/sleep"))
        await asyncio.sleep(0)  # the sleeper is suspended on its timer before the block
        await call("/block")
        await sleeper

    asyncio.run(both())
    for rec in (inner, outer):
        ids = {e.data["path"]: e.req for e in rec.events if e.kind == K.REQUEST_START}
        # The block the test made, told by its request: a busy machine may slow other steps
        # past the threshold too.
        blocked = [e for e in rec.events if e.kind == K.LOOP_BLOCKED and e.req == ids["/block"]]
        assert len(blocked) == 1
        assert blocked[0].data["delayed"] == [ids["/sleep"]]

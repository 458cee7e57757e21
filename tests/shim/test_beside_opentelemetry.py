"""The shim beside OpenTelemetry's asyncio instrumentation (what ``opentelemetry-instrument``
turns on when ``opentelemetry-instrumentation-asyncio`` is installed): it wraps the coroutine
of every ``asyncio.create_task``, ``ensure_future``, ``wait_for`` and ``gather`` in one of its
own, a frame that only passes the awaiting on."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from shim_asgi_apps import http_scope

import tracer
from tracer import events as K

instrumentation = pytest.importorskip("opentelemetry.instrumentation.asyncio")

pytestmark = pytest.mark.timeout(30)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    await asyncio.wait_for(asyncio.sleep(0), 5)  # a task of asyncio.sleep's own coroutine
    await asyncio.gather(asyncio.sleep(0))
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _task_steps() -> list[tuple[Any, Any]]:
    """(awaiting, location) of each step of the tasks of one request to ``app``."""
    rec = tracer.Recorder()
    wrapped = tracer.instrument(app, recorder=rec)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    asyncio.run(wrapped(http_scope(), receive, send))
    (start,) = [e for e in rec.events if e.kind == K.REQUEST_START]
    return [
        (e.data["awaiting"], e.data["location"])
        for e in rec.events
        if e.kind == K.SCHED_STEP and e.task != start.task
    ]


def test_a_step_inside_otels_task_wrapper_is_located_as_without_it() -> None:
    """A task running a coroutine of asyncio's (no app frame in it) whose step ends inside
    OpenTelemetry's wrapper: the location is the one it has without the instrumentation (the
    awaited primitive's line), not the wrapper's ``return await coro``."""
    plain = _task_steps()
    instrumentor = instrumentation.AsyncioInstrumentor()
    instrumentor.instrument()  # as the zero-code agent does
    try:
        steps = _task_steps()
    finally:
        instrumentor.uninstrument()
    assert len(plain) == 4
    assert [awaiting for awaiting, _ in plain] == ["asyncio.sleep", None] * 2
    assert steps == plain

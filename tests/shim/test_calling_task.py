"""The task named on ``asgi.receive``/``asgi.send``, found without asking asyncio where it can be."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
from shim_asgi_apps import call

import tracer
from tracer import events as K

pytestmark = pytest.mark.timeout(60)


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hi"})


@pytest.mark.skipif(
    sys.version_info >= (3, 12), reason="asyncio.current_task is C there, with no system call"
)
def test_a_requests_own_calls_do_not_ask_asyncio_for_the_running_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On 3.11 ``asyncio.current_task()`` asks ``get_running_loop()``, a ``getpid()`` system
    call each time: once the shim has seen the loop, a request's start and its own receive
    and sends name their task without it, and record the same events."""
    rec = tracer.Recorder()
    shim = tracer.instrument(hello, recorder=rec)
    asked: list[int] = []
    real = asyncio.events.get_running_loop

    def counted() -> asyncio.AbstractEventLoop:
        asked.append(1)
        return real()

    async def requests() -> None:
        await call(shim)  # the first request finds the loop
        monkeypatch.setattr(asyncio.events, "get_running_loop", counted)
        for _ in range(3):
            await call(shim)
        monkeypatch.undo()

    asyncio.run(requests())
    assert asked == []
    events = rec.events
    for req in (1, 2, 3, 4):
        own = [(e.kind, e.task) for e in events if e.req == req]
        task = own[0][1]
        assert task is not None
        assert own == [
            (K.REQUEST_START, task),
            (K.ASGI_RECEIVE, task),
            (K.ASGI_SEND, task),
            (K.ASGI_SEND, task),
            (K.SCHED_STEP, task),
            (K.REQUEST_END, task),
        ]


async def sends_from_a_child(scope: dict[str, Any], receive: Any, send: Any) -> None:
    async def child() -> None:
        await asyncio.sleep(0)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"hi"})

    await receive()
    await asyncio.create_task(child(), name="child")


def test_a_second_loop_on_the_same_thread_is_asked_afresh() -> None:
    """The shim's last loop is closed when a request comes on a new one on the same thread:
    the request's task is the new loop's, and that loop traces the tasks it creates."""
    rec = tracer.Recorder()
    shim = tracer.instrument(sends_from_a_child, recorder=rec)

    async def named(name: str) -> None:
        task = asyncio.current_task()
        assert task is not None
        task.set_name(name)
        await call(shim)

    asyncio.run(named("first"))
    asyncio.run(named("second"))
    for req, root in ((1, "first"), (2, "second")):
        assert [(e.kind, e.task) for e in rec.events if e.req == req] == [
            (K.REQUEST_START, root),
            (K.ASGI_RECEIVE, root),
            (K.SCHED_STEP, root),
            (K.SCHED_STEP, "child"),
            (K.ASGI_SEND, "child"),
            (K.ASGI_SEND, "child"),
            (K.SCHED_STEP, "child"),
            (K.SCHED_STEP, root),
            (K.REQUEST_END, root),
        ]


async def sends_from_another_thread(scope: dict[str, Any], receive: Any, send: Any) -> None:
    async def on_the_thread() -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})

    def thread_loop() -> None:
        async def named() -> None:
            task = asyncio.current_task()
            assert task is not None
            task.set_name("thread-task")
            await on_the_thread()

        asyncio.run(named())

    await receive()
    await asyncio.to_thread(thread_loop)
    await send({"type": "http.response.body", "body": b"hi"})


def test_a_send_made_on_another_threads_loop_names_that_loops_task() -> None:
    """The request's loop runs on its own thread, not the caller's: the caller's loop is asked,
    and the send is named after the task that made it."""
    rec = tracer.Recorder()
    shim = tracer.instrument(sends_from_another_thread, recorder=rec)

    async def named() -> None:
        task = asyncio.current_task()
        assert task is not None
        task.set_name("root")
        await call(shim)

    asyncio.run(named())
    assert [
        (e.data["type"], e.task) for e in rec.events if e.kind in (K.ASGI_RECEIVE, K.ASGI_SEND)
    ] == [
        ("http.request", "root"),
        ("http.response.start", "thread-task"),
        ("http.response.body", "root"),
    ]

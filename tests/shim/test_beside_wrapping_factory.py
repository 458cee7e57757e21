"""The shim beside a task factory that wraps each task's coroutine in one of its own and
keeps the factory it found where no closure shows it (an attribute of an object), as an
instrumentation library's may: each task of a request is still stepped once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from shim_asgi_apps import http_scope

import tracer
from tracer import events as K

pytestmark = pytest.mark.timeout(30)


class Wrapping:
    """A task factory: each coroutine runs inside ``around``; ``found`` makes the task."""

    def __init__(self, found: Any) -> None:
        self.found = found
        self.made = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        self.made += 1

        async def around() -> Any:
            return await coro

        if self.found is None:
            return asyncio.Task(around(), loop=loop, **kwargs)
        return self.found(loop, around(), **kwargs)


async def child() -> None:
    await asyncio.sleep(0)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    await asyncio.create_task(child(), name="child")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_a_factory_around_the_shims_that_hides_it_still_steps_each_task_once() -> None:
    rec = tracer.Recorder()
    wrapped = tracer.instrument(app, recorder=rec)
    factories: list[Wrapping] = []

    async def main() -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            pass

        for _ in range(3):
            await wrapped(http_scope(), receive, send)
            if not factories:  # set after the first request: around the shim's
                loop = asyncio.get_running_loop()
                factories.append(Wrapping(loop.get_task_factory()))
                loop.set_task_factory(factories[0])

    asyncio.run(main())
    own = {e.req: e.task for e in rec.events if e.kind == K.REQUEST_START}
    steps = [
        (e.req, e.task, e.data["awaiting"])
        for e in rec.events
        if e.kind == K.SCHED_STEP and e.task != own[e.req]
    ]
    assert factories[0].made >= 2
    assert steps == [
        (req, "child", awaiting) for req in sorted(own) for awaiting in ("asyncio.sleep", None)
    ]

"""Task factories the app sets, eager tasks, and task names under the shim's own factory."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

import pytest

import tracer
from tracer import events as K
from tracer.events import Event

pytestmark = pytest.mark.timeout(60)

needs_eager = pytest.mark.skipif(
    sys.version_info < (3, 12), reason="asyncio.eager_task_factory is Python 3.12+"
)


def _of(rec: tracer.Recorder, kind: str) -> list[Event]:
    return [e for e in rec.events if e.kind == kind]


def _scope(kind: str) -> dict[str, Any]:
    if kind == "lifespan":
        return {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    return {
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
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


def _app_with(
    startup: Callable[[asyncio.AbstractEventLoop], None], child: Callable[[], Any]
) -> Callable[..., Any]:
    """An app whose lifespan startup calls ``startup(loop)`` and whose request awaits a task
    named "child" running ``child()``."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    startup(asyncio.get_running_loop())
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await receive()
        await asyncio.create_task(child(), name="child")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def _serve(app: Any, requests: int = 1) -> tracer.Recorder:
    """``app`` instrumented: its lifespan started, ``requests`` requests one after the other,
    its lifespan shut down; all in one event loop, as a server runs them."""
    rec = tracer.Recorder()
    wrapped = tracer.instrument(app, recorder=rec)

    async def main() -> None:
        lifespan: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        said: list[str] = []

        async def lifespan_send(message: dict[str, Any]) -> None:
            said.append(message["type"])

        await lifespan.put({"type": "lifespan.startup"})
        running = asyncio.ensure_future(wrapped(_scope("lifespan"), lifespan.get, lifespan_send))
        while not said:
            await asyncio.sleep(0)
        for _ in range(requests):

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                pass

            await wrapped(_scope("http"), receive, send)
        await lifespan.put({"type": "lifespan.shutdown"})
        await running
        assert said == ["lifespan.startup.complete", "lifespan.shutdown.complete"]

    asyncio.run(main())
    return rec


def _child_steps(rec: tracer.Recorder) -> list[Event]:
    """The steps of the requests' child tasks (not of the requests' own tasks)."""
    own = {e.req: e.task for e in _of(rec, K.REQUEST_START) if e.data["scope_type"] == "http"}
    return [e for e in _of(rec, K.SCHED_STEP) if e.req in own and e.task != own[e.req]]


def test_a_task_factory_the_app_sets_in_its_lifespan_is_wrapped_at_the_next_request() -> None:
    """The app's own factory, set in its lifespan startup (after the shim set its own), makes
    the tasks (it is called for each one), and the tasks of each request are still traced."""
    made: list[str] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        made.append(coro.__name__)
        return asyncio.Task(coro, loop=loop, **kwargs)

    async def child() -> None:
        await asyncio.sleep(0)

    rec = _serve(_app_with(lambda loop: loop.set_task_factory(factory), child), requests=2)
    assert made[:2] == ["child", "child"]  # then asyncio.run's own shutdown tasks
    starts = [e.req for e in _of(rec, K.REQUEST_START) if e.data["scope_type"] == "http"]
    assert [(e.req, e.task, e.data["awaiting"]) for e in _child_steps(rec)] == [
        (starts[0], "child", "asyncio.sleep"),
        (starts[0], "child", None),
        (starts[1], "child", "asyncio.sleep"),
        (starts[1], "child", None),
    ]


def test_a_factory_that_wraps_the_shims_own_traces_each_task_once() -> None:
    """An app's factory built around the one it found (the shim's, set at the lifespan's
    start) is wrapped in turn: the shim's factory is then in the chain twice, the task traced
    once."""

    def startup(loop: asyncio.AbstractEventLoop) -> None:
        found = loop.get_task_factory()
        assert found is not None

        def around(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
            return found(loop, coro, **kwargs)

        loop.set_task_factory(around)

    async def child() -> None:
        await asyncio.sleep(0)

    rec = _serve(_app_with(startup, child))
    assert [(e.task, e.data["awaiting"]) for e in _child_steps(rec)] == [
        ("child", "asyncio.sleep"),
        ("child", None),
    ]


@needs_eager
def test_an_eager_task_factory_set_in_the_lifespan_stays_eager_and_its_tasks_are_traced() -> None:
    """``asyncio.eager_task_factory`` set in the lifespan startup: a request's child task still
    starts inside ``create_task`` (eagerly), and each of its steps is the request's."""
    order: list[str] = []

    async def child() -> None:
        order.append("child started")
        await asyncio.sleep(0)
        order.append("child resumed")

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _app_with(lambda loop: loop.set_task_factory(asyncio.eager_task_factory), child)(
                scope, receive, send
            )
            return
        await receive()
        task = asyncio.create_task(child(), name="child")
        order.append("create_task returned")
        await task
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    rec = _serve(app)
    assert order == ["child started", "create_task returned", "child resumed"]
    (start,) = [e for e in _of(rec, K.REQUEST_START) if e.data["scope_type"] == "http"]
    assert [(e.req, e.data["awaiting"]) for e in _child_steps(rec)] == [
        (start.req, "asyncio.sleep"),
        (start.req, None),
    ]


@pytest.mark.skipif(
    not (3, 13, 0) <= sys.version_info[:3] < (3, 13, 3),
    reason="Python 3.13.0-3.13.2 name every task a custom factory makes",
)
def test_unnamed_tasks_keep_their_names_after_a_traced_request() -> None:
    """Once the shim's factory is the loop's, a task created without a name, in a request or
    outside any, keeps the name asyncio gave it (not "None"), as seen from inside it too."""
    names: list[str] = []

    async def own_name() -> None:
        task = asyncio.current_task()
        assert task is not None
        names.append(task.get_name())

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await asyncio.create_task(own_name())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    rec = tracer.Recorder()
    wrapped = tracer.instrument(app, recorder=rec)

    async def main() -> list[str]:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            pass

        await wrapped(_scope("http"), receive, send)
        outside = asyncio.create_task(own_name())
        await outside
        from_loop = asyncio.get_running_loop().create_task(own_name())
        await from_loop
        return [outside.get_name(), from_loop.get_name()]

    outside_names = asyncio.run(main())
    assert "None" not in names + outside_names
    assert all(name.startswith("Task-") for name in names + outside_names)
    assert {e.task for e in _child_steps(rec)} == {names[0]}

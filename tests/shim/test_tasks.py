"""Tasks a traced request creates: their steps and blocking are the request's own."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from fastapi import FastAPI
from shim_asgi_apps import cancellable_sleep, fetch, get

import tracer
from tracer import events as K
from tracer.events import Event
from tracer.shim.tasks import watching

pytestmark = pytest.mark.timeout(60)


def _of(rec: tracer.Recorder, kind: str) -> list[Event]:
    return [e for e in rec.events if e.kind == kind]


async def _get(app: Any, *paths: str) -> list[int]:
    return [response.status_code for response in await fetch(app, *paths)]


def test_a_blocking_call_behind_fastapi_http_middleware_is_seen() -> None:
    """FastAPI's ``@app.middleware("http")`` runs the endpoint in another task: its
    ``time.sleep`` is still a ``loop.blocked`` of its request, at the endpoint's line, and the
    other request is the one it delayed (never the request itself)."""
    app = FastAPI()

    @app.middleware("http")
    async def passthrough(request: Any, call_next: Any) -> Any:
        return await call_next(request)

    @app.get("/block")
    async def block() -> dict[str, bool]:
        time.sleep(0.05)  # the line the blocking is charged to
        return {"ok": True}

    sleep_line = block.__code__.co_firstlineno + 2
    rec = tracer.Recorder()
    assert asyncio.run(_get(tracer.instrument(app, recorder=rec), "/block", "/block")) == [200] * 2
    starts = {e.req: e.task for e in _of(rec, K.REQUEST_START)}
    blocked = [e for e in _of(rec, K.LOOP_BLOCKED) if e.dur and e.dur >= 45_000_000]
    assert sorted(e.req for e in blocked) == sorted(starts)
    for event in blocked:
        assert event.data["location"].endswith(f"test_tasks.py:{sleep_line}")
        assert event.data["delayed"] == [r for r in starts if r != event.req]
        assert event.task != starts[event.req]  # the endpoint's task, not the request's own
        steps = [e for e in _of(rec, K.SCHED_STEP) if e.req == event.req and e.t == event.t]
        assert [s.dur for s in steps] == [event.dur]


def test_create_task_steps_carry_the_request_and_the_task_name() -> None:
    """A raw ASGI app's ``asyncio.create_task``: the child's steps are the request's, named
    after the task; its result and the request's response are what they would be untraced."""

    async def child() -> int:
        await asyncio.sleep(0)
        return 41

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        value = await asyncio.create_task(child(), name="helper") + 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(value).encode()})

    rec = tracer.Recorder()
    assert get(tracer.instrument(app, recorder=rec)).content == b"42"
    (start,) = _of(rec, K.REQUEST_START)
    helper = [e for e in _of(rec, K.SCHED_STEP) if e.task == "helper"]
    assert {e.req for e in helper} == {start.req}
    first, last = helper
    assert first.data["awaiting"] == "asyncio.sleep"
    assert first.data["location"].endswith(f"test_tasks.py:{child.__code__.co_firstlineno + 1}")
    assert last.data["awaiting"] is None  # its last step returned


def test_a_traced_task_is_named_as_the_apps_coroutine() -> None:
    """A task a traced request creates runs through a step proxy, but reads as the app's: its
    coroutine's ``__name__`` and ``__qualname__``, and the task's repr, name the app's
    function, as untraced."""
    seen: list[tuple[str, str, str]] = []

    async def child() -> None:
        await asyncio.sleep(0)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        task = asyncio.create_task(child())
        coro = task.get_coro()
        seen.append((coro.__name__, coro.__qualname__, repr(task)))
        await task
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    assert get(app).status_code == 200
    assert get(tracer.instrument(app, recorder=tracer.Recorder())).status_code == 200
    (plain_name, plain_qualname, _), (name, qualname, shown) = seen
    assert (name, qualname) == (plain_name, plain_qualname) == ("child", child.__qualname__)
    assert f"coro=<{child.__qualname__}()" in shown


def test_tasks_outside_traced_requests_are_untouched_and_factories_chain() -> None:
    """A task factory set before the shim still makes every task; a task created outside any
    traced request keeps its own coroutine; one created inside a request is wrapped."""
    made: list[str] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        # The code it runs: the shim's wrapper or not (asyncio.run's shutdown may hand it an
        # awaitable that is no coroutine).
        code = getattr(coro, "cr_code", None)
        made.append(code.co_qualname if code is not None else type(coro).__name__)
        return asyncio.Task(coro, loop=loop, **kwargs)

    async def inner() -> None:
        await asyncio.sleep(0)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await asyncio.create_task(inner())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    rec = tracer.Recorder()
    shim = tracer.instrument(app, recorder=rec)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_task_factory(factory)
        assert await _get(shim, "/") == [204]
        assert watching(loop)
        assert "_run" in made  # the app's child, wrapped by the shim, made by the factory
        outside = asyncio.create_task(inner())
        assert made[-1].endswith("<locals>.inner")  # outside a request: as it was given
        assert outside.get_coro().__qualname__.endswith("<locals>.inner")
        await outside

    asyncio.run(main())
    child_steps = [e for e in _of(rec, K.SCHED_STEP) if e.task not in (None, "Task-1")]
    assert child_steps


def test_a_child_task_cancelled_and_raising_behaves_as_untraced() -> None:
    """Cancelling a traced child task cancels the app's coroutine; an exception comes out as
    the same object."""
    boom = ValueError("boom")
    seen: list[str] = []

    async def raiser() -> None:
        await asyncio.sleep(0)
        raise boom

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        task = asyncio.create_task(cancellable_sleep(seen))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(ValueError) as caught:
            await asyncio.create_task(raiser())
        assert caught.value is boom
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    rec = tracer.Recorder()
    assert asyncio.run(_get(tracer.instrument(app, recorder=rec), "/")) == [204]
    assert seen == ["cancelled"]
    assert [e.data["error"] for e in _of(rec, K.REQUEST_END)] == [None]


def test_tasks_and_hops_the_server_starts_inside_send_are_not_the_requests() -> None:
    """Hypercorn starts connection tasks from inside the app's ``await send()``: that is the
    server's code, so such a task is not traced as the request's, and neither is work the
    server hands to a thread there; the app's own task right after still is."""
    server_tasks: list[asyncio.Task[None]] = []

    async def server_side() -> None:
        await asyncio.sleep(0)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await asyncio.create_task(asyncio.sleep(0), name="app's")
        await send({"type": "http.response.body", "body": b""})

    rec = tracer.Recorder()
    shim = tracer.instrument(app, recorder=rec)

    async def main() -> None:
        scope = {"type": "http", "method": "GET", "path": "/", "headers": []}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            server_tasks.append(asyncio.create_task(server_side(), name="server's"))
            await asyncio.get_running_loop().run_in_executor(None, time.sleep, 0)

        await shim(scope, receive, send)
        await asyncio.gather(*server_tasks)

    asyncio.run(main())
    assert len(server_tasks) == 2
    assert all(t.get_coro().__qualname__.endswith("server_side") for t in server_tasks)
    tasks = {e.task for e in _of(rec, K.SCHED_STEP)}
    assert "app's" in tasks and "server's" not in tasks
    assert _of(rec, K.SCHED_THREAD) == []


def test_a_task_left_running_keeps_its_steps_after_the_response() -> None:
    """A fire-and-forget task stays the request's: its steps come after ``request.end`` (work
    the response did not wait for); the request's latency still ends at its ``request.end``."""
    from tracer.tui.model import build_model

    done = asyncio.Event()

    async def later() -> None:
        await asyncio.sleep(0.03)
        done.set()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        asyncio.get_running_loop().create_task(later(), name="left-running")
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def run(traced: Any) -> None:
        assert (await fetch(traced, "/"))[0].status_code == 204
        await asyncio.wait_for(done.wait(), 5)

    rec = tracer.Recorder()
    asyncio.run(run(tracer.instrument(app, recorder=rec)))
    rec.drain()
    (end,) = _of(rec, K.REQUEST_END)
    steps = [e for e in _of(rec, K.SCHED_STEP) if e.task == "left-running"]
    assert {e.req for e in steps} == {end.req}
    assert steps[-1].t > end.t  # after the response: the sleep outlived it
    (start,) = _of(rec, K.REQUEST_START)
    recording = rec.recording()
    latency_ms = tracer.summarize(recording)["latency_ms"]["max"]
    assert latency_ms < (steps[-1].t - start.t) / 1e6  # the task's last step is not in it
    (lane,) = build_model(recording).by_request
    assert max(span.end for span in lane.spans) >= steps[-1].t  # drawn where it ran

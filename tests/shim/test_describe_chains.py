"""What a step awaits and where, through async generators and chains of library helpers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from shim_asgi_apps import call
from starlette.responses import StreamingResponse

import tracer
from tracer import events as K

pytestmark = pytest.mark.timeout(60)


def line_of(marker: str) -> str:
    """``/file:line`` of the line in this file ending with ``# <marker>``."""
    for number, line in enumerate(Path(__file__).read_text(encoding="utf-8").splitlines(), 1):
        if line.rstrip().endswith(f"# {marker}"):
            return f"/{Path(__file__).name}:{number}"
    raise LookupError(marker)


def _steps(app: Any) -> list[dict[str, Any]]:
    rec = tracer.Recorder()
    asyncio.run(call(tracer.instrument(app, recorder=rec)))
    return [dict(e.data, task=e.task) for e in rec.events if e.kind == K.SCHED_STEP]


async def _chunks() -> AsyncIterator[bytes]:
    await asyncio.sleep(0.001)  # chains: generator sleeps
    yield b"x"


async def async_for_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    async for chunk in _chunks():
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


def test_a_step_inside_async_for_names_the_generators_await() -> None:
    """``async for`` over an async generator that sleeps: the step awaits ``asyncio.sleep`` at
    the generator's line (not ``Future`` at the ``async for``)."""
    first = _steps(async_for_app)[0]
    assert first["awaiting"] == "asyncio.sleep"
    assert first["location"].endswith(line_of("chains: generator sleeps"))


@contextlib.asynccontextmanager
async def _resource() -> AsyncIterator[None]:
    try:
        yield
    finally:
        await asyncio.sleep(0.001)  # chains: cleanup sleeps


async def context_manager_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    async with _resource():
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def test_an_asynccontextmanagers_cleanup_is_located_in_the_app() -> None:
    """The cleanup of an ``asynccontextmanager`` (FastAPI's ``yield`` dependencies) awaits
    through ``anext``: the step is at the app's ``finally``, not in ``contextlib``."""
    first = _steps(context_manager_app)[0]
    assert first["awaiting"] == "asyncio.sleep"
    assert first["location"].endswith(line_of("chains: cleanup sleeps"))


async def _streamed() -> AsyncIterator[bytes]:
    for _ in range(2):
        await asyncio.sleep(0.001)  # chains: stream sleeps
        yield b"x"


def test_a_starlette_streaming_response_is_located_in_the_apps_generator() -> None:
    """Starlette's ``StreamingResponse`` over the app's async generator: its sleeping steps
    are at the generator's line, not in ``starlette/responses.py``."""
    steps = _steps(StreamingResponse(_streamed()))
    sleeping = [s for s in steps if s["awaiting"] == "asyncio.sleep"]
    assert len(sleeping) == 2
    assert all(s["location"].endswith(line_of("chains: stream sleeps")) for s in sleeping)


async def library_only_task_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await asyncio.ensure_future(asyncio.sleep(0.001))  # a task of asyncio's code alone
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def test_a_task_of_library_code_alone_has_a_location_until_its_last_step() -> None:
    """A task whose coroutine is a library's (``asyncio.sleep`` itself): its suspended step is
    located in that library; only a task's last step has no location."""
    steps = _steps(library_only_task_app)
    root = steps[0]["task"]
    child = [s for s in steps if s["task"] != root]
    assert [s["awaiting"] for s in child] == ["asyncio.sleep", None]
    assert "asyncio/tasks.py:" in child[0]["location"]
    assert child[-1]["location"] is None

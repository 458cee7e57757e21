"""``sched.step``'s ``awaiting`` for futures the app awaits: named by the asyncio call that made them."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from shim_asgi_apps import call, traced

from tracer import events as K
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)

HERE = os.path.relpath(__file__)


def _line(marker: str) -> str:
    """``file:line`` of the line of this file ending with ``# <marker>``."""
    with open(__file__, encoding="utf-8") as source:
        for number, line in enumerate(source, 1):
            if line.rstrip().endswith(f"# {marker}"):
                return f"{HERE}:{number}"
    raise LookupError(marker)


async def _answer(send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _gathers(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Awaits a gather of three coroutines, then one of one."""
    await asyncio.gather(asyncio.sleep(0), asyncio.sleep(0), asyncio.sleep(0))  # GATHER3
    await asyncio.gather(asyncio.sleep(0))  # GATHER1
    await _answer(send)


async def _awaits_futures(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Awaits a future a callback resolves, an executor's, and a shielded one."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    loop.call_soon(future.set_result, None)
    await future  # CREATED
    await loop.run_in_executor(None, sum, [1, 2])  # EXECUTOR
    inner = loop.create_future()
    loop.call_soon(inner.set_result, None)
    await asyncio.shield(inner)  # SHIELD
    await _answer(send)


def _own_steps(app: Any) -> list[tuple[str | None, str | None]]:
    """(awaiting, location) of each step of the request's own task."""
    shim, rec = traced(app)
    asyncio.run(call(shim))
    return _steps_of(rec)


def _steps_of(rec: Recorder) -> list[tuple[str | None, str | None]]:
    events = rec.recording().events
    own = next(e.task for e in events if e.kind == K.REQUEST_START)
    return [
        (e.data["awaiting"], e.data["location"])
        for e in events
        if e.kind == K.SCHED_STEP and e.task == own
    ]


def test_a_gather_is_named_with_how_many_it_awaits() -> None:
    """``asyncio.gather(...)`` reads as ``asyncio.gather (N awaitables)``, not its class."""
    assert _own_steps(_gathers) == [
        ("asyncio.gather (3 awaitables)", _line("GATHER3")),
        ("asyncio.gather (1 awaitable)", _line("GATHER1")),
        (None, None),
    ]


def test_plain_futures_are_named_by_the_call_that_made_them() -> None:
    """A callback's future, ``run_in_executor``'s and ``shield``'s, each at its ``await``."""
    assert _own_steps(_awaits_futures) == [
        ("Future (loop.create_future)", _line("CREATED")),
        ("loop.run_in_executor", _line("EXECUTOR")),
        ("asyncio.shield", _line("SHIELD")),
        (None, None),
    ]

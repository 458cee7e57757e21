"""What a step awaits, in anyio: named as anyio's users know it (``anyio.sleep``), not by the
private module it is defined in (``anyio._core._eventloop.sleep``), as asyncio's are."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
import pytest

from tracer import events as K
from tracer.recorder import Recorder
from tracer.shim.steps import Stepper

pytestmark = pytest.mark.timeout(60)


async def sleeps() -> None:
    await anyio.sleep(0.001)


async def waits_for_its_group() -> None:
    async with anyio.create_task_group() as group:
        group.start_soon(anyio.sleep, 0.001)


async def waits_for_a_limiter() -> None:
    limiter = anyio.CapacityLimiter(1)
    await limiter.acquire_on_behalf_of("someone else")
    asyncio.get_running_loop().call_later(0.001, limiter.release_on_behalf_of, "someone else")
    async with limiter:
        pass


async def waits_for_a_lock() -> None:
    lock = anyio.Lock()
    held = anyio.Event()

    async def holder() -> None:
        async with lock:
            held.set()
            await asyncio.sleep(0.001)

    task = asyncio.ensure_future(holder())
    await asyncio.wait([asyncio.ensure_future(held.wait())])
    async with lock:
        pass
    await task


async def receives() -> None:
    send, receive = anyio.create_memory_object_stream[int](1)
    asyncio.get_running_loop().call_later(0.001, send.send_nowait, 1)
    await receive.receive()


def _awaiting(app: Callable[[], Coroutine[Any, Any, None]]) -> list[str]:
    """What each step of ``app`` (a traced request) awaited, in order, the last (None) left out."""
    rec = Recorder()

    async def main() -> None:
        await Stepper(app(), 1, rec, 10**9, "r1", threading.get_ident(), "main")

    asyncio.run(main())
    steps = [e.data["awaiting"] for e in rec.events if e.kind == K.SCHED_STEP]
    assert steps[-1] is None
    return steps[:-1]


@pytest.mark.parametrize(
    ("app", "awaiting"),
    [
        (sleeps, ["anyio.sleep"]),
        (waits_for_its_group, ["anyio.TaskGroup.__aexit__"]),
        (
            waits_for_a_limiter,
            ["anyio.CapacityLimiter.acquire_on_behalf_of", "anyio.CapacityLimiter.__aenter__"],
        ),
        (waits_for_a_lock, ["asyncio.wait", "anyio.Lock.__aenter__"]),
        (receives, ["anyio.streams.memory.MemoryObjectReceiveStream.receive"] * 2),
    ],
)
def test_anyio_primitives_are_named_by_their_public_module(
    app: Callable[[], Coroutine[Any, Any, None]], awaiting: list[str]
) -> None:
    """Private modules are cut off at their first private part; public ones stay whole."""
    assert _awaiting(app) == awaiting

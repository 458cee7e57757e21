"""``tracer.servers.last_step.LastStep``: ``await LastStep(coro, now)`` is ``await coro`` (its
value, its exceptions, a cancellation thrown in and caught, a close), and ``began`` is when the
latest step of the coroutine began."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Generator
from itertools import count

import pytest

from tracer.servers.last_step import LastStep

pytestmark = pytest.mark.timeout(10)


def test_the_value_and_when_the_last_step_began() -> None:
    clock = count(1)
    seen: list[int | None] = []

    async def app() -> str:
        seen.append(steps.began)
        await asyncio.sleep(0)
        seen.append(steps.began)
        await asyncio.sleep(0)
        return "done"

    steps = LastStep(app(), lambda: next(clock))
    assert steps.began is None

    async def main() -> str:
        return await steps

    assert asyncio.run(main()) == "done"
    assert seen == [1, 2]
    assert steps.began == 3


def test_exceptions_go_out_and_a_cancellation_goes_in() -> None:
    async def raising() -> None:
        await asyncio.sleep(0)
        raise LookupError("app")

    async def catching(started: asyncio.Event) -> str:
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            return "caught"
        return "slept"

    async def main() -> tuple[str, str]:
        with pytest.raises(LookupError, match="app"):
            await LastStep(raising(), lambda: 0)
        started = asyncio.Event()
        task = asyncio.ensure_future(LastStep(catching(started), lambda: 0))
        await started.wait()
        task.cancel()
        return await task, "ok"

    assert asyncio.run(main()) == ("caught", "ok")


@types.coroutine
def _pause() -> Generator[None, None, None]:
    yield


def test_closing_it_closes_the_coroutine() -> None:
    closed: list[bool] = []

    async def app() -> None:
        try:
            await _pause()
        finally:
            closed.append(True)

    async def wrapper() -> None:
        await LastStep(app(), lambda: 0)

    coro = wrapper()
    coro.send(None)  # suspended inside the app
    coro.close()
    assert closed == [True]

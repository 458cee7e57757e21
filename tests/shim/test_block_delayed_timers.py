"""Loop blocking: requests woken by a timer that is not a sleep are delayed ones too, and a
loop that hides its due callbacks (uvloop) says its ``delayed`` list may be incomplete."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import anyio
import pytest

from tracer import events as K
from tracer.recorder import Recorder
from tracer.shim.steps import Stepper

pytestmark = pytest.mark.timeout(60)

DUE = 0.05
"""When the victims' timers fall due, in seconds: well inside the block, yet long beside the
pauses a busy machine puts between arming them and the block's start."""
BLOCK = 0.25
"""How long the culprit holds the loop, in seconds."""


def traced(coro: Any, req: int, rec: Recorder) -> Any:
    """Drive ``coro`` as request ``req`` (20 ms threshold) inside a task."""
    stepper = Stepper(coro, req, rec, 20_000_000, f"r{req}", threading.get_ident(), "main")

    async def run() -> Any:
        return await stepper

    return asyncio.ensure_future(run())


async def times_out() -> None:
    """``asyncio.timeout``: its deadline cancels the task (``Timeout._on_timeout``)."""
    try:
        async with asyncio.timeout(DUE):
            await asyncio.Event().wait()
    except TimeoutError:
        pass


async def future_set_by_timer() -> None:
    """A future the loop resolves from a timer: ``call_later(d, fut.set_result, 1)``."""
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    loop.call_later(DUE, fut.set_result, 1)
    await fut


async def moves_on() -> None:
    """anyio's ``move_on_after``: its cancel scope's deadline (``CancelScope._timeout``)."""
    with anyio.move_on_after(DUE):
        await asyncio.Event().wait()


async def fails_after() -> None:
    """anyio's ``fail_after`` around an inner scope: the deadline reaches the inner one."""
    try:
        with anyio.fail_after(DUE):
            with anyio.CancelScope():
                await anyio.sleep(5)
    except TimeoutError:
        pass


async def cancelled_by_timer() -> None:
    """A task a timer cancels: ``call_later(d, task.cancel)``."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().call_later(DUE, task.cancel)
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        task.uncancel()


async def thread_hop() -> None:
    """A thread hop whose work ends inside the block: its result waits for the loop."""
    await asyncio.to_thread(time.sleep, DUE)


async def far_timeout() -> None:
    """Control: a deadline well after the block is not due when it ends."""
    try:
        async with asyncio.timeout(5):
            await asyncio.Event().wait()
    except TimeoutError:
        pass


def _blocks(runner: Any) -> list[Any]:
    """Run the victims and a culprit that holds the loop for ``BLOCK`` on ``runner``'s loop;
    the ``loop.blocked`` events of the culprit.

    The run counts only if the block began before any victim's timer was due (a machine too
    busy to get there in ``DUE`` makes those requests ready before the block, not by it): it
    is run again otherwise, a few times at most.
    """
    for _ in range(5):
        blocked, in_time = _run_blocks(runner)
        if in_time:
            return blocked
    pytest.fail("the block never began before the victims' timers fell due")


def _run_blocks(runner: Any) -> tuple[list[Any], bool]:
    rec = Recorder()
    began_in_time: list[bool] = []
    victims = [
        times_out,
        future_set_by_timer,
        moves_on,
        fails_after,
        cancelled_by_timer,
        thread_hop,
        far_timeout,
    ]

    async def main() -> None:
        go = asyncio.Event()

        async def blocker() -> None:
            await go.wait()
            began_in_time.append(time.monotonic() - armed < DUE)
            time.sleep(BLOCK)  # every deadline of DUE falls due in here

        tasks = [traced(victim(), req, rec) for req, victim in enumerate(victims, 1)]
        tasks.append(traced(blocker(), 9, rec))
        armed = time.monotonic()  # the victims arm their deadlines right after this
        await asyncio.sleep(0)  # every request waits now, its deadline armed
        go.set()
        await asyncio.wait(tasks[-1:])
        tasks[6].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    runner(main)
    blocked = [e for e in rec.events if e.kind == K.LOOP_BLOCKED and e.req == 9]
    return blocked, began_in_time == [True]


def test_requests_a_deadline_or_a_timer_callback_woke_are_delayed() -> None:
    """asyncio.timeout, a timer resolving a future, anyio's deadlines, a timer cancelling a
    task, a thread hop's end: all fell due inside the block, so all were delayed; the far
    deadline was not."""
    blocked = _blocks(lambda main: asyncio.run(main()))
    assert [(e.req, e.data["delayed"]) for e in blocked] == [(9, [1, 2, 3, 4, 5, 6])]
    assert "delayed_complete" not in blocked[0].data


def test_a_loop_that_hides_its_due_callbacks_says_its_list_may_be_incomplete() -> None:
    """uvloop keeps timers and callbacks from other threads inside libuv: its blocks say
    ``delayed_complete: false`` (asyncio's loop above says nothing, its list is whole). A
    thread hop's end is still seen there (the executor's future is done)."""
    uvloop = pytest.importorskip("uvloop")
    blocked = _blocks(lambda main: uvloop.run(main()))
    seen = [(e.req, e.data["delayed"], e.data.get("delayed_complete")) for e in blocked]
    assert seen == [(9, [6], False)]

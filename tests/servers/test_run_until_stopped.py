"""``tracer.loops.run_until_stopped``: the body of a loop's own thread, and its one callback."""

from __future__ import annotations

import asyncio
import threading

from tracer.loops import new_loop, run_until_stopped


def test_after_run_sees_the_stopped_loop_open_with_its_tasks_then_they_are_cancelled() -> None:
    """Whoever stopped the loop, ``after_run`` runs on the loop's thread once it stopped, the
    loop still open and a task it never got back to not yet cancelled; after it, that task
    is cancelled (as ``asyncio.run`` does) and the loop closed."""
    loop = new_loop()
    began = threading.Event()
    seen: list[tuple[str, object]] = []
    pending: list[asyncio.Task[None]] = []

    async def forever() -> None:
        try:
            began.set()
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen.append(("cancelled", threading.current_thread().name))
            raise

    def after_run() -> None:
        seen.append(("after_run", threading.current_thread().name))
        seen.append(("closed", loop.is_closed()))
        seen.append(("task done", pending[0].done()))

    loop.call_soon_threadsafe(lambda: pending.append(loop.create_task(forever())))
    thread = threading.Thread(
        target=run_until_stopped, args=(loop,), kwargs={"after_run": after_run}, name="owned"
    )
    thread.start()
    assert began.wait(10)
    loop.call_soon_threadsafe(loop.stop)  # someone's stop: the callback tells whose
    thread.join(10)
    assert seen == [
        ("after_run", "owned"),
        ("closed", False),
        ("task done", False),
        ("cancelled", "owned"),
    ]
    assert loop.is_closed() and pending[0].cancelled()


def test_without_after_run_the_loop_is_still_cleaned_up() -> None:
    """No callback: the leftover task is cancelled and the loop closed all the same."""
    loop = new_loop()
    pending: list[asyncio.Task[bool]] = []

    def begin() -> None:
        pending.append(loop.create_task(asyncio.Event().wait()))
        loop.stop()

    loop.call_soon(begin)
    run_until_stopped(loop)
    assert loop.is_closed() and pending[0].cancelled()

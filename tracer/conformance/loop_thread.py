"""The event loop of ``trace check``'s ASGI probes, run on a daemon thread of its own.

Its one job is running each step of the check on that loop while the caller waits for it with
a deadline (the timeout plus ``grace``): a handler that blocks the loop (``time.sleep`` in
``async def``) can stop the loop's own timeouts from firing, but not the caller's. A loop still
blocked past the deadline cannot be taken back: it is ``stuck``, and the loop's thread is left
behind. What the app does to the loop itself (a task's SystemExit, its ``loop.stop()``) is kept
as ``upsets`` and the loop run on. Otherwise the check closes its loop at its end as
``asyncio.run`` does, cancelling the tasks left, but waits for them at most ``grace`` (a quarter
of the timeout, from 0.25 s to 0.5 s): a task that swallows its cancellation and never ends is
given up, and the loop closed without it, so that neither the loop's thread nor the shim's loop
watchdog outlives the check. Imports ``tracer.loops``, ``tracer.sourcepath`` and
``tracer.conformance.findings``; never the shim or the probes.
"""

from __future__ import annotations

import concurrent.futures
import sys
import threading

# Bound now, before the app is imported: the check's loop and waits must not depend on what
# the app does to asyncio at import (an event-loop policy whose ``new_event_loop`` raises, an
# ``asyncio.wait`` replaced by a fake).
from asyncio import (
    AbstractEventLoop,
    all_tasks,
    current_task,
    run_coroutine_threadsafe,
    set_event_loop,
    wait,
)
from collections.abc import Coroutine
from contextlib import suppress
from typing import Any

from tracer.conformance.findings import crash_of
from tracer.loops import new_loop
from tracer.sourcepath import display_path

__all__ = ["LoopThread", "grace"]


def grace(timeout: float) -> float:
    """Slack past the timeout for a probe the loop times out itself (cancelling takes a step)."""
    return min(0.5, max(0.25, timeout / 4))


class LoopThread:
    """The check's event loop, run on a daemon thread; the caller waits for each step, bounded.

    A step the loop's own timeouts would end in time finishes before the caller's deadline
    (the timeout plus ``grace``). Past the deadline the step is cancelled and the loop pinged:
    a loop that does not answer is blocked by the app (``stuck``) and is given up on.
    """

    def __init__(self, timeout: float) -> None:
        self.wait = timeout + grace(timeout)
        self.grace = grace(timeout)
        self.stuck = False
        self.loop = new_loop()
        self.upsets: list[dict[str, str | None]] = []
        """What the app did to the loop itself since the caller last looked (``take_upsets``):
        crash rows without their request."""
        self._closing = False
        self._stopped_at: str | None = None
        self._given_up: set[int] = set()
        """ids of the tasks still pending when the loop was closed (``_cancel_left``)."""
        self._watch_stops()
        self.loop.set_exception_handler(self._unhandled)
        self.thread = threading.Thread(target=self._run, name="trace-check-loop", daemon=True)
        self.thread.start()

    def _watch_stops(self) -> None:
        """Note where the app calls ``loop.stop()``, for the line that says it did."""
        own_stop = self.loop.stop

        def stop() -> None:
            if not self._closing and self._stopped_at is None:
                caller = sys._getframe(1)
                self._stopped_at = f"{display_path(caller.f_code.co_filename)}:{caller.f_lineno}"
            own_stop()

        try:
            setattr(self.loop, "stop", stop)  # noqa: B010 - mypy refuses assigning a method
        except AttributeError:  # a loop of a C type: noticed, without the line
            pass

    def _unhandled(self, loop: AbstractEventLoop, context: dict[str, Any]) -> None:
        # A task's SystemExit or KeyboardInterrupt was already reported as an upset; asyncio
        # would log it again as "never retrieved" when the task is collected. A task given up
        # on is reported (its request is CHK-001): asyncio would log it as "destroyed but
        # pending" when it is collected, whenever that is.
        if id(context.get("task")) in self._given_up:
            self._given_up.discard(id(context.get("task")))
            return
        if not isinstance(context.get("exception"), (SystemExit, KeyboardInterrupt)):
            loop.default_exception_handler(context)

    def _run(self) -> None:
        # The app can end ``run_forever`` early: a SystemExit or KeyboardInterrupt raised in a
        # task it created comes out of the loop itself, and its own ``loop.stop()`` returns
        # from it. uvicorn's process ends then; the check says so (``upsets``) and runs the
        # loop on, so that the probes left are still judged. What is left at the end (a loop
        # given up on that came back, a cleanup cut short) is cancelled, as asyncio.run does.
        # Nobody waits for this thread any more.
        set_event_loop(self.loop)
        try:
            while True:
                try:
                    self.loop.run_forever()
                except (SystemExit, KeyboardInterrupt) as exc:
                    row = crash_of(exc, "")
                    said = f"{row['message']} " if row["message"] else ""
                    row["message"] = (
                        f"{said}(raised in a task the app created: it ends the server's event "
                        "loop, and the server)"
                    )
                    self.upsets.append(row)
                    continue
                if self._closing:
                    break
                self.upsets.append(
                    {
                        "request": "",
                        "type": "loop.stop()",
                        "message": "the app stopped the server's event loop (a server ends there)",
                        "where": self._stopped_at,
                    }
                )
                self._stopped_at = None
            with suppress(SystemExit, KeyboardInterrupt):
                self._cancel_left()
        finally:
            self.loop.close()

    def _cancel_left(self) -> None:
        """Cancel the tasks left and let them finish, as ``asyncio.run`` does, but for
        ``grace`` at most: a task that swallows its cancellation and never ends (its request
        is CHK-001 already) would keep the loop, this thread and the shim's loop watchdog
        going for the rest of the process. The loop is closed without it."""
        pending = all_tasks(self.loop)
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(wait(pending, timeout=self.grace))
        self._given_up = {id(task) for task in pending if not task.done()}

    def take_upsets(self) -> list[dict[str, str | None]]:
        """What the app did to the loop since the last call (see ``upsets``)."""
        upsets, self.upsets = self.upsets, []
        return upsets

    def run(self, coro: Coroutine[Any, Any, Any]) -> tuple[bool, Any]:
        """Run ``coro`` on the loop: ``(True, its result)``, or ``(False, None)`` past the deadline."""
        if self.stuck:
            coro.close()
            return False, None
        try:
            future = run_coroutine_threadsafe(coro, self.loop)
        except RuntimeError:  # the loop is closed (its thread ended): nothing runs any more
            coro.close()
            self.stuck = True
            return False, None
        try:
            return True, future.result(self.wait)
        except concurrent.futures.TimeoutError:
            pass
        except concurrent.futures.CancelledError:
            return False, None
        if not future.cancel():  # it ended just now
            return True, future.result()
        # The task is cancelled when (if) the loop gets to it; is the loop there at all?
        alive = threading.Event()
        try:
            self.loop.call_soon_threadsafe(alive.set)
        except RuntimeError:  # the loop is closed
            pass
        self.stuck = not alive.wait(self.grace)
        return False, None

    async def _shutdown(self) -> None:
        """As asyncio.run ends: cancel the tasks left, close async generators and the executor."""
        current = current_task()
        tasks = [task for task in all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        if tasks:
            await wait(tasks, timeout=self.grace)
        await self.loop.shutdown_asyncgens()
        await self.loop.shutdown_default_executor()

    def close(self) -> None:
        """Stop the loop and its thread; a stuck one is left behind (the thread is a daemon)."""
        if not self.stuck:
            self.run(self._shutdown())
        self._closing = True
        try:
            self.loop.call_soon_threadsafe(self.loop.stop)
        except RuntimeError:  # already closed
            return
        if not self.stuck:  # its tasks get ``grace`` to end once cancelled (``_cancel_left``)
            self.thread.join(2 * self.grace)

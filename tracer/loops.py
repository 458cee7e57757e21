"""Running an asyncio event loop on a thread of its own, for the in-process loop server model
and ``trace check``'s ASGI probes. Imports nothing of ours.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["cancel_left", "new_loop", "new_own_loop", "real_time", "run_until_stopped"]

new_loop = asyncio.DefaultEventLoopPolicy().new_event_loop
"""A new event loop of Python's default class for this platform, bound when this module is
imported (before any app): whatever event-loop policy an app sets later (one whose
``new_event_loop`` raises, or makes a loop of its own), the tool's loops are asyncio's own.
uvicorn too makes its loop before it imports the app."""


def real_time(clock: Callable[[], float] = time.monotonic) -> float:
    """``time.monotonic`` as it was when this module was imported. A default argument, not a
    module attribute: freezegun's ``start()`` replaces every module attribute that is the real
    function."""
    return clock()


def new_own_loop() -> asyncio.AbstractEventLoop:
    """A ``new_loop`` for the tool's own work (the load generator), whose timers run on the
    real clock: an app that freezes or fakes ``time.monotonic`` in this process (a test's
    frozen clock left running) freezes asyncio's timers, which read it at every call, and the
    load would stop. The app's own loops (the ``loop`` model's) keep the process's clock, as
    uvicorn's loop would under that app."""
    loop = new_loop()
    loop.time = real_time  # type: ignore[method-assign]
    return loop


def run_until_stopped(
    loop: asyncio.AbstractEventLoop, *, after_run: Callable[[], None] | None = None
) -> None:
    """The body of a loop's own thread: run ``loop`` until ``loop.stop()``, then cancel the
    tasks it never got back to (it was stuck in a blocking call, or given up on), as
    ``asyncio.run`` does, and close it.

    ``after_run`` is called on this thread once the loop has stopped, while it is still open
    and before those tasks are cancelled: the owner can tell its own stop from someone
    else's ``loop.stop()`` (an app that stops its server's loop, which ends uvicorn) and
    record what that did while the tasks are still there.
    """
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
        if after_run is not None:
            after_run()
        cancel_left(loop)
    finally:
        loop.close()


def cancel_left(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the tasks a stopped ``loop`` never got back to and let them finish, as
    ``asyncio.run`` does before it closes its loop."""
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))

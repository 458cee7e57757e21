"""Running an asyncio event loop on a thread of its own, for the in-process loop server model
and ``trace check``'s ASGI probes. Imports nothing of ours.
"""

from __future__ import annotations

import asyncio

__all__ = ["run_until_stopped"]


def run_until_stopped(loop: asyncio.AbstractEventLoop) -> None:
    """The body of a loop's own thread: run ``loop`` until ``loop.stop()``, then cancel the
    tasks it never got back to (it was stuck in a blocking call, or given up on), as
    ``asyncio.run`` does, and close it."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    finally:
        loop.close()

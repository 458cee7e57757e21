"""``Mailbox``: hand items to an event loop from other threads, one wake-up per batch.

``loop.call_soon_threadsafe`` per item costs a write to the loop's self-pipe and a wake-up each
time; under load, requests and responses cross between the load generator's loop and the
server's threads thousands of times a second. A mailbox queues items and schedules one drain
while none is pending, so a busy loop takes many items per wake-up; on the loop's own thread there is no hand-off.
Imports nothing of ours.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["Mailbox"]

# The C-level "which loop runs in this thread" (None outside a loop), without an exception.
_running_loop = asyncio._get_running_loop


class Mailbox:
    """Items posted from any thread are passed to ``handler`` on ``loop``, in order."""

    __slots__ = ("loop", "_handler", "_items", "_scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop, handler: Callable[[Any], None]) -> None:
        self.loop = loop
        self._handler = handler
        self._items: deque[Any] = deque()
        self._scheduled = False

    def post(self, item: Any) -> None:
        """Queue ``item``; wake the loop unless a drain is already scheduled.

        Posted from the loop's own thread, the item is handled at once.
        """
        if _running_loop() is self.loop:
            self._handler(item)
            return
        self._items.append(item)
        if not self._scheduled:
            # The drain clears the flag before it pops, so an item appended after a poster saw
            # the flag set is still popped by that drain.
            self._scheduled = True
            try:
                self.loop.call_soon_threadsafe(self._drain)
            except RuntimeError:  # the loop is closed: nobody will take the item
                self._scheduled = False

    def _drain(self) -> None:
        self._scheduled = False
        items, handler = self._items, self._handler
        while items:
            handler(items.popleft())

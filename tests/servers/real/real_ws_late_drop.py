"""A websocket app that accepts, reads one message, then sleeps and returns without a reply or
a close, while its client still waits for replies (it sends more than one)."""

from __future__ import annotations

import asyncio
from typing import Any


async def app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    await receive()
    await asyncio.sleep(0.2)

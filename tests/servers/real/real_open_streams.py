"""An event stream that stays open far longer than its client waits: its first event at once,
then one every 20 ms, 100 in all (2 s), so a client's timeout (1 s) cuts it while the server
is still sending and the stream still ends soon if no client ever leaves (uvicorn runs it to
its end after its client left, and its stop waits for it)."""

from __future__ import annotations

import asyncio
from typing import Any

EVENT = b"data: tick\n\n"


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The stream; stops when its client leaves (the send fails)."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/event-stream")],
        }
    )
    for _ in range(100):
        await send({"type": "http.response.body", "body": EVENT, "more_body": True})
        await asyncio.sleep(0.02)
    await send({"type": "http.response.body", "body": b""})

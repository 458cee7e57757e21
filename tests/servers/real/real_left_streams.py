"""An app whose responses only the client ends: each sends its headers and a first chunk,
then waits until its client leaves. On ``/raise`` it then raises (the app's own error, which
stays an error); elsewhere it waits on until the server's stop cancels it (hypercorn's
``cancelled``: the server's word, not the app's)."""

from __future__ import annotations

import asyncio
from typing import Any

CHUNK = b"data: " + b"x" * 92 + b"\n\n"
"""One event of 100 bytes."""


async def asgi_left(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Headers and one chunk, then nothing more until ``http.disconnect``."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/event-stream")],
        }
    )
    await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
    while (await receive())["type"] != "http.disconnect":
        pass
    if scope["path"] == "/raise":
        raise ValueError("raised after the client left")
    await asyncio.sleep(60)  # the server's stop cancels it well before

"""An ASGI app that fails before and after starting its response, one path each (served by the
real-server tests from this folder)."""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["app"]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``/before``: raises before ``http.response.start``; ``/after-start``: raises after it,
    before any body; ``/body-before-start`` and ``/unknown-message``: send what the server
    refuses before any start (its error propagates); ``/returns``: returns without a response;
    ``/cancels``: raises a ``CancelledError`` of its own."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    path = scope["path"]
    if path == "/body-before-start":
        await send({"type": "http.response.body", "body": b"x"})
    elif path == "/unknown-message":
        await send({"type": "http.response.weird"})
    elif path == "/returns":
        await receive()
        return
    elif path == "/cancels":
        raise asyncio.CancelledError("raised by the app, its task not cancelled")
    if path == "/after-start":
        headers = [(b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
    raise RuntimeError(f"at {scope['path']}")

"""A websocket echo (ASGI): accept, send back every message, close when the client does.

Run it with ``trace run sample_apps.websocket:app --ws-messages 5``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["app"]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """ASGI: websocket echo; a plain HTTP request gets 426 Upgrade Required."""
    if scope["type"] == "http":
        await send(
            {"type": "http.response.start", "status": 426, "headers": [(b"upgrade", b"websocket")]}
        )
        await send({"type": "http.response.body", "body": b"websocket only\n"})
        return
    if scope["type"] != "websocket":
        return
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.receive":
            if message.get("text") is not None:
                await send({"type": "websocket.send", "text": message["text"]})
            else:
                await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})
        elif message["type"] == "websocket.disconnect":
            return

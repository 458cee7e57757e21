"""A slow websocket chat (ASGI): each message is answered after ``?ms`` (50) milliseconds.

The answer waits on ``asyncio.sleep``, so one event loop holds many such long-lived sessions
at once; a WSGI server would hold one worker thread per session for its whole life.
Run it with ``trace run sample_apps.ws_chat:app --path 'ws:/?ms=50' --ws-messages 10``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sample_apps._params import query_number

__all__ = ["app", "DEFAULT_MS"]

DEFAULT_MS = 50.0


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """ASGI: accept, answer each message ``?ms`` later, end when the client leaves."""
    if scope["type"] != "websocket":
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 426, "headers": []})
            await send({"type": "http.response.body", "body": b"websocket only\n"})
        return
    delay = query_number(scope.get("query_string", b""), "ms", DEFAULT_MS) / 1000
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.receive":
            await asyncio.sleep(delay)  # thinking: the loop serves other sessions meanwhile
            reply = message.get("text")
            if reply is not None:
                await send({"type": "websocket.send", "text": reply})
            else:
                await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})
        elif message["type"] == "websocket.disconnect":
            return

"""A websocket app that closes each session with the code its path names, after one echo
(one whose path is no number raises instead of its echo)."""

from __future__ import annotations

from typing import Any


async def app(scope: Any, receive: Any, send: Any) -> None:
    """Accept, echo the client's first message, close with ``int(path)``; no lifespan (it
    raises on one, and the server goes on without)."""
    if scope["type"] != "websocket":
        raise RuntimeError("websocket sessions only")
    await receive()
    await send({"type": "websocket.accept"})
    message = await receive()
    code = int(scope["path"].strip("/"))
    await send({"type": "websocket.send", "text": message["text"]})
    await send({"type": "websocket.close", "code": code})

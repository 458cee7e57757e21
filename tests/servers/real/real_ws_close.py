"""A websocket app that closes each session with the code its path names, after one echo
(one whose path is no number raises instead of its echo, and ``/unread`` returns without a
close once the client's close came, never reading it). Two return without a close while the
client still waits for a reply: ``/accept-return`` as soon as it accepted, ``/echo-return``
after one echo (for a client that sends two messages)."""

from __future__ import annotations

import asyncio
from typing import Any

UNREAD_POLLS = 500
"""How many 10 ms looks ``/unread`` takes at most for the client's close (one, or a few, in
practice: the client closes as soon as it has the echo)."""


async def app(scope: Any, receive: Any, send: Any) -> None:
    """Accept, echo the client's first message, close with ``int(path)``; no lifespan (it
    raises on one, and the server goes on without)."""
    if scope["type"] != "websocket":
        raise RuntimeError("websocket sessions only")
    await receive()
    await send({"type": "websocket.accept"})
    path = scope["path"].strip("/")
    if path == "accept-return":
        return
    message = await receive()
    if path == "echo-return":
        await send({"type": "websocket.send", "text": message["text"]})
        return
    if path == "unread":
        await send({"type": "websocket.send", "text": message["text"]})
        await _return_once_the_client_closed(send)
        return
    code = int(path)
    await send({"type": "websocket.send", "text": message["text"]})
    await send({"type": "websocket.close", "code": code})


async def _return_once_the_client_closed(send: Any) -> None:
    """Wait for the client's close without ``receive()``: a send raises once it came (the
    server's ``ClientDisconnected``, an ``OSError``)."""
    for _ in range(UNREAD_POLLS):
        await asyncio.sleep(0.01)
        try:
            await send({"type": "websocket.send", "text": "."})
        except OSError:
            return

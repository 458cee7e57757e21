"""``websocket_detail``: what a WebSocket message adds to its recorded ``asgi.send`` /
``asgi.receive`` (a text frame, a close's reason, the accepted subprotocol), read from the
messages a real Starlette app sends, and nothing for an HTTP message."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.websockets import WebSocket

from tracer.shim.frames import MESSAGE_LIMIT
from tracer.shim.messages import summarize_message, websocket_detail


async def _app_messages(script: Any) -> list[dict[str, Any]]:
    """What a Starlette ``WebSocket`` sends while ``script(websocket)`` runs, given a connect
    and two client messages (a text and a binary one)."""
    incoming = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": "hi"},
        {"type": "websocket.receive", "bytes": b"hi"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/", "headers": [], "subprotocols": ["chat"]}
    await script(WebSocket(scope, receive, send))
    return sent


async def _echo_both_then_close(websocket: WebSocket) -> None:
    await websocket.accept(subprotocol="chat")
    await websocket.send_text(await websocket.receive_text())
    await websocket.send_bytes(await websocket.receive_bytes())
    await websocket.close(code=4000, reason="bye")


def test_a_starlette_apps_messages() -> None:
    """The accept names ``chat``, the text echo is ``text``, the binary one adds nothing,
    the close carries its reason; sizes stay ``summarize_message``'s (2 bytes each)."""
    sent = asyncio.run(_app_messages(_echo_both_then_close))
    assert [websocket_detail(m) for m in sent] == [
        ("subprotocol", "chat"),
        ("text", True),
        None,
        ("reason", "bye"),
    ]
    assert [summarize_message(m)[2] for m in sent] == [None, 2, 2, None]


@pytest.mark.parametrize(
    "message,detail",
    [
        ({"type": "websocket.receive", "text": "é"}, ("text", True)),
        ({"type": "websocket.receive", "text": ""}, ("text", True)),
        ({"type": "websocket.receive", "bytes": b"x", "text": None}, None),
        ({"type": "websocket.send", "bytes": b"", "text": "x"}, None),  # the bytes are sent
        ({"type": "websocket.disconnect", "code": 1000, "reason": "done"}, ("reason", "done")),
        ({"type": "websocket.disconnect", "code": 1005}, None),
        ({"type": "websocket.close", "code": 1000, "reason": ""}, None),
        ({"type": "websocket.close", "reason": "\udcff"}, ("reason", "\\udcff")),
        ({"type": "websocket.accept", "subprotocol": None}, None),
        ({"type": "websocket.accept"}, None),
        ({"type": "http.response.body", "body": b"x", "text": "x"}, None),
        ({"type": "http.request", "body": b""}, None),
        ("not a mapping", None),
    ],
)
def test_details_by_type(message: Any, detail: Any) -> None:
    """One field at most, by the message's type; malformed messages add none."""
    assert websocket_detail(message) == detail


def test_a_long_reason_is_cut_as_an_error_message_is() -> None:
    reason = "r" * (MESSAGE_LIMIT + 10)
    message = {"type": "websocket.close", "code": 4000, "reason": reason}
    assert websocket_detail(message) == ("reason", "r" * MESSAGE_LIMIT)

"""A traced WebSocket session records what its messages were: text or bytes, the accepted
subprotocol, a close's reason; an HTTP request's events carry none of these fields."""

from __future__ import annotations

import asyncio
from typing import Any

import tracer
from tracer import events as K


async def _session_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept", "subprotocol": "chat"})
    first = await receive()  # text
    await send({"type": "websocket.send", "text": first["text"]})
    second = await receive()  # bytes
    await send({"type": "websocket.send", "bytes": second["bytes"]})
    await send({"type": "websocket.close", "code": 4000, "reason": "bye"})


def _run(app: Any, scope: dict[str, Any], incoming: list[dict[str, Any]]) -> tracer.Recorder:
    recorder = tracer.Recorder()
    traced = tracer.instrument(app, recorder=recorder)
    queue = list(incoming)

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    async def send(message: dict[str, Any]) -> None:
        pass

    asyncio.run(traced(scope, receive, send))
    return recorder


def test_a_sessions_messages_say_text_bytes_subprotocol_and_reason() -> None:
    scope = {"type": "websocket", "asgi": {"version": "3.0"}, "path": "/ws", "raw_path": b"/ws",
             "query_string": b"", "headers": [], "subprotocols": ["chat"], "scheme": "ws",
             "http_version": "1.1", "client": None, "server": None}  # fmt: skip
    incoming = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": "héllo", "bytes": None},
        {"type": "websocket.receive", "bytes": b"\x00\x01", "text": None},
    ]
    recorder = _run(_session_app, scope, incoming)
    seen = [
        (e.kind, dict(e.data)) for e in recorder.events if e.kind in (K.ASGI_RECEIVE, K.ASGI_SEND)
    ]
    assert seen == [
        (K.ASGI_RECEIVE, {"type": "websocket.connect", "bytes": None, "more_body": None}),
        (K.ASGI_SEND, {"type": "websocket.accept", "status": None, "bytes": None,
                       "more_body": None, "subprotocol": "chat"}),
        (K.ASGI_RECEIVE, {"type": "websocket.receive", "bytes": 6, "more_body": None,
                          "text": True}),
        (K.ASGI_SEND, {"type": "websocket.send", "status": None, "bytes": 6, "more_body": None,
                       "text": True}),
        (K.ASGI_RECEIVE, {"type": "websocket.receive", "bytes": 2, "more_body": None}),
        (K.ASGI_SEND, {"type": "websocket.send", "status": None, "bytes": 2, "more_body": None}),
        (K.ASGI_SEND, {"type": "websocket.close", "status": None, "bytes": None, "more_body": None,
                       "code": 4000, "reason": "bye"}),
    ]  # fmt: skip


async def _http_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_an_http_requests_events_have_no_websocket_fields() -> None:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "method": "GET", "path": "/",
             "raw_path": b"/", "query_string": b"", "headers": [], "scheme": "http",
             "http_version": "1.1", "client": None, "server": None}  # fmt: skip
    recorder = _run(_http_app, scope, [{"type": "http.request", "body": b"", "more_body": False}])
    for event in recorder.events:
        if event.kind in (K.ASGI_RECEIVE, K.ASGI_SEND):
            assert not {"text", "reason", "subprotocol"} & set(event.data), event

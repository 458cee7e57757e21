"""ASGI middleware around the shim: what is recorded is what the app sent.

Starlette's ``GZipMiddleware`` compresses a body by replacing ``message["body"]`` in the very
dict the app sent, and only then passes it on. The shim read the message after the ``send``
it passed it to returned, so with the middleware outside the shim every ``asgi.send`` had the
compressed size and ``bytes_out`` was the compressed total: neither what the app sent (the
conformance checker saw that) nor what reached the client (the middleware buffers).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

import tracer
from tracer import events as K
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)

CHUNK = "chunk " * 50  # 300 bytes, compressible


async def stream(request: Request) -> StreamingResponse:
    async def chunks() -> AsyncIterator[str]:
        for _ in range(3):
            yield CHUNK

    return StreamingResponse(chunks(), media_type="text/plain")


def app() -> Starlette:
    return Starlette(routes=[Route("/stream", stream)])


def get(asgi_app: Any, **headers: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=asgi_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get("/stream", headers=headers)

    return asyncio.run(go())


def sends(rec: Recorder) -> list[tuple[Any, ...]]:
    return [
        (e.data["type"], e.data["status"], e.data["bytes"], e.data["more_body"])
        for e in rec.events
        if e.kind == K.ASGI_SEND
    ]


def test_gzip_outside_the_shim_leaves_the_apps_sends_as_sent() -> None:
    rec = Recorder()
    wrapped = GZipMiddleware(tracer.instrument(app(), recorder=rec), minimum_size=10)

    response = get(wrapped, **{"accept-encoding": "gzip"})

    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.text == CHUNK * 3
    assert sends(rec) == [
        ("http.response.start", 200, None, None),
        ("http.response.body", None, 300, True),
        ("http.response.body", None, 300, True),
        ("http.response.body", None, 300, True),
        ("http.response.body", None, 0, False),
    ]
    end = [e for e in rec.events if e.kind == K.REQUEST_END]
    assert [(e.data["status"], e.data["bytes_out"]) for e in end] == [(200, 900)]


class Rewriter:
    """A pure ASGI middleware that changes the app's messages in place once they come back
    from the server (as a middleware reusing its dicts may): a start's status, a body's
    bytes and its ``more_body``."""

    def __init__(self, inner: Any) -> None:
        self.app = inner

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def rewriting_send(message: dict[str, Any]) -> None:
            await send(message)
            if message["type"] == "http.response.start":
                message["status"] = 599
            elif message["type"] == "http.response.body":
                message["body"] = b"x" * 7
                message["more_body"] = not message.get("more_body", False)

        await self.app(scope, receive, rewriting_send)


def test_a_message_changed_after_the_server_took_it_is_recorded_as_sent() -> None:
    rec = Recorder()

    response = get(Rewriter(tracer.instrument(app(), recorder=rec)))

    assert response.status_code == 200
    assert response.text == CHUNK * 3
    assert sends(rec) == [
        ("http.response.start", 200, None, None),
        ("http.response.body", None, 300, True),
        ("http.response.body", None, 300, True),
        ("http.response.body", None, 300, True),
        ("http.response.body", None, 0, False),
    ]
    end = [e for e in rec.events if e.kind == K.REQUEST_END]
    assert [(e.data["status"], e.data["bytes_out"]) for e in end] == [(200, 900)]
    assert not [e for e in rec.events if e.kind == K.VIOLATION]


async def answers_after_the_client_left(scope: Any, receive: Any, send: Any) -> None:
    """Reads the request and the disconnect that follows, then answers all the same."""
    assert (await receive())["type"] == "http.request"
    assert (await receive())["type"] == "http.disconnect"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"y" * 300})


def test_a_message_changed_after_the_peer_left_counts_nothing() -> None:
    """Sent once the app knew its client was gone: recorded at the size sent, and taken back
    out of ``bytes_out`` at that same size (the size after the change was taken back)."""
    rec = Recorder()
    wrapped = Rewriter(tracer.instrument(answers_after_the_client_left, recorder=rec))
    incoming = [
        {"type": "http.request", "body": b"", "more_body": False},
        {"type": "http.disconnect"},
    ]
    outgoing: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        outgoing.append(dict(message))

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET"}
    asyncio.run(wrapped({**scope, "path": "/", "query_string": b"", "headers": []}, receive, send))

    assert [m.get("status", len(m.get("body", b""))) for m in outgoing] == [200, 300]
    assert sends(rec) == [
        ("http.response.start", 200, None, None),
        ("http.response.body", None, 300, False),
    ]
    end = [e for e in rec.events if e.kind == K.REQUEST_END]
    assert [(e.data["status"], e.data["bytes_out"]) for e in end] == [(None, 0)]

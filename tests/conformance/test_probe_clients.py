"""The check's clients do what a real client does: a websocket message in the form apps read,
and a client that leaves a long stream ends it (ASGI spec 2.4: the send raises OSError)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route
from starlette.websockets import WebSocket as StarletteWebSocket

from tracer.conformance.driver import check_app

pytestmark = pytest.mark.timeout(60)


def test_a_fastapi_endpoint_that_reads_json_takes_the_websocket_probe() -> None:
    """``receive_json`` of the probe's message is no crash: it is JSON text."""
    api = FastAPI()

    @api.websocket("/ws")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.send_json({"echo": await websocket.receive_json()})
        except WebSocketDisconnect:
            pass

    report = check_app(api, paths=["/ws"])
    assert "websocket /ws" in report.requests
    assert report.findings == [] and report.crashes == []


def test_a_starlette_endpoint_that_reads_text_takes_it_too() -> None:
    async def shout(websocket: StarletteWebSocket) -> None:
        await websocket.accept()
        async for text in websocket.iter_text():
            await websocket.send_text(text.upper())

    async def jsons(websocket: StarletteWebSocket) -> None:
        await websocket.accept()
        async for message in websocket.iter_json():
            await websocket.send_json(message)

    from starlette.routing import WebSocketRoute

    app = Starlette(routes=[WebSocketRoute("/text", shout), WebSocketRoute("/json", jsons)])
    report = check_app(app, paths=["/text", "/json"])
    assert {"websocket /text", "websocket /json"} <= set(report.requests)
    assert report.findings == [] and report.crashes == []


async def _count_slowly() -> AsyncIterator[str]:
    """A finite stream that outlasts the check's timeout and never looks at the client."""
    for i in range(40):
        await asyncio.sleep(0.02)
        yield f"{i}\n"


async def _numbers(request: Request) -> StreamingResponse:
    return StreamingResponse(_count_slowly(), media_type="text/plain")


def test_a_long_finite_stream_ends_when_its_client_leaves_no_chk_001() -> None:
    """Starlette's StreamingResponse under spec 2.4 relies on the send raising once the client
    left; the check's client leaves at half the timeout, so the stream ends: no CHK-001, and
    the ClientDisconnect Starlette raises then is how it learned it, not a crash."""
    app = Starlette(routes=[Route("/numbers", _numbers)])
    report = check_app(app, paths=["/numbers"], timeout=0.4)
    assert "GET /numbers" in report.requests
    assert report.findings == [] and report.crashes == []

"""``check_app`` plays the server as uvicorn would for stock framework apps: endless streams,
lifespan state, websocket denial responses, and late sends of tasks left behind."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException, Request, WebSocket
from fastapi.responses import StreamingResponse
from flask import Flask, Response

from tracer.conformance.driver import check_app

pytestmark = pytest.mark.timeout(60)


def rules(report: Any) -> list[str]:
    return sorted({f.rule for f in report.findings})


# -- D1: endless streams end when the client leaves ----------------------------------------------


def _sse_app() -> FastAPI:
    api = FastAPI()

    @api.get("/events")
    async def events(request: Request) -> StreamingResponse:
        async def ticks() -> AsyncIterator[bytes]:
            i = 0
            while not await request.is_disconnected():
                yield f"data: {i}\n\n".encode()
                i += 1
                await asyncio.sleep(0.02)

        return StreamingResponse(ticks(), media_type="text/event-stream")

    return api


def test_fastapi_event_stream_that_stops_on_disconnect_is_clean() -> None:
    report = check_app(_sse_app(), paths=["/events"], timeout=1)
    assert "GET /events" in report.requests
    assert report.findings == [] and report.crashes == []


def test_flask_endless_generator_is_closed_not_timed_out() -> None:
    closed: list[bool] = []
    app = Flask(__name__)

    @app.route("/events")
    def events() -> Response:
        def ticks() -> Iterator[str]:
            try:
                while True:
                    yield "data: tick\n\n"
                    time.sleep(0.01)
            finally:
                closed.append(True)

        return Response(ticks(), mimetype="text/event-stream")

    report = check_app(app, paths=["/events"], timeout=1)
    assert [f for f in report.findings if f.rule == "CHK-001"] == []
    assert closed  # the generator was closed (close() called), not left running


async def _ignores_disconnect(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Streams forever without ever looking at ``receive``, and goes on past the OSError a
    spec 2.4 server's send raises once the client left."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    while True:
        try:
            await send({"type": "http.response.body", "body": b"x", "more_body": True})
        except OSError:
            pass
        await asyncio.sleep(0.01)


def test_stream_that_ignores_the_disconnect_is_still_chk_001() -> None:
    report = check_app(_ignores_disconnect, paths=["/"], timeout=0.5)
    assert {f.request for f in report.findings if f.rule == "CHK-001"} >= {"GET /"}


# -- D2: lifespan state reaches the requests -----------------------------------------------------


def test_lifespan_state_reaches_request_state() -> None:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, str]]:
        yield {"db": "conn"}

    api = FastAPI(lifespan=lifespan)

    @api.get("/state")
    async def state(request: Request) -> dict[str, str]:
        return {"db": request.state.db}

    report = check_app(api, paths=["/state"])
    assert report.crashes == []
    assert report.findings == []


# -- D3: websocket denial responses --------------------------------------------------------------


def test_fastapi_websocket_http_exception_is_a_clean_denial() -> None:
    api = FastAPI()

    @api.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        raise HTTPException(403, "no")

    report = check_app(api, paths=["/ws"])
    assert "websocket /ws" in report.requests
    assert [f for f in report.findings if f.request == "websocket /ws"] == []


def _denier(after_accept: bool) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            return
        await receive()
        if after_accept:
            await send({"type": "websocket.accept"})
        await send({"type": "websocket.http.response.start", "status": 403, "headers": []})
        await send({"type": "websocket.http.response.body", "body": b"no"})

    return app


def test_raw_denial_response_is_checked_by_the_other_ws_rules() -> None:
    clean = check_app(_denier(after_accept=False), paths=["/"])
    assert "websocket /" in clean.requests
    assert [f for f in clean.findings if f.request == "websocket /"] == []
    # WS-012 still fires in a check: a denial after accepting.
    late = check_app(_denier(after_accept=True), paths=["/"])
    assert "WS-012" in {f.rule for f in late.findings if f.request == "websocket /"}


# -- D4: a task left behind that sends a little later --------------------------------------------


async def _late_sender(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return

    async def later() -> None:
        await asyncio.sleep(0.05)
        await send({"type": "http.response.body", "body": b"late"})

    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
    _late_sender.tasks.add(asyncio.ensure_future(later()))  # type: ignore[attr-defined]


_late_sender.tasks = set()  # type: ignore[attr-defined]


def test_background_task_sending_late_is_asgi_003() -> None:
    report = check_app(_late_sender, paths=["/"])
    assert "ASGI-003" in rules(report)

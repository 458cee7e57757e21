"""Websocket sessions, lifespan and a real server, through the real shim, as spans."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import httpx
import pytest
from opentelemetry.trace import SpanKind
from otel_recordings import label

import tracer
from tracer.otel.testing import memory_provider

pytestmark = pytest.mark.timeout(60)


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Lifespan, an echoing websocket, and a plain HTTP answer."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    elif scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        message = await receive()
        await send({"type": "websocket.send", "text": message.get("text", "")})
        await receive()
    else:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def _drive(app: Any, scope: dict[str, Any], inbox: list[dict[str, Any]]) -> None:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for message in inbox:
        queue.put_nowait(message)

    async def send(message: dict[str, Any]) -> None:
        pass

    await app(scope, queue.get, send)


def test_lifespan_phases_and_a_websocket_session_through_the_shim() -> None:
    """Startup and shutdown are spans; the session is one SERVER span with its messages."""
    provider, exporter = memory_provider()
    rec = tracer.Recorder()
    app = tracer.instrument(_app, recorder=rec, tracer_provider=provider)
    websocket = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "path": "/ws",
        "query_string": b"",
        "headers": [],
        "scheme": "ws",
        "http_version": "1.1",
        "subprotocols": [],
        "client": ["127.0.0.1", 5000],
        "server": ["127.0.0.1", 8000],
    }

    async def main() -> None:
        lifespan = {"type": "lifespan", "asgi": {"version": "3.0"}}
        await _drive(app, lifespan, [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
        await _drive(
            app,
            websocket,
            [
                {"type": "websocket.connect"},
                {"type": "websocket.receive", "text": "hi"},
                {"type": "websocket.disconnect", "code": 1000},
            ],
        )

    asyncio.run(main())
    rec.drain()
    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert set(spans) == {"lifespan startup", "lifespan shutdown", "GET"}
    session = spans["GET"]
    assert session.kind is SpanKind.SERVER
    messages = [e.name for e in session.events if not e.name.startswith("sched.")]
    assert messages == [
        "asgi.receive websocket.connect",
        "asgi.send websocket.accept",
        "asgi.receive websocket.receive",
        "asgi.send websocket.send",
        "asgi.receive websocket.disconnect",
    ]
    startup = spans["lifespan startup"]
    assert startup.end_time <= spans["lifespan shutdown"].start_time


def test_instrumented_app_under_uvicorn_exports_spans_with_real_addresses() -> None:
    """A real server on 127.0.0.1: server.port is the bound port, client.address loopback."""
    uvicorn = pytest.importorskip("uvicorn")
    provider, exporter = memory_provider()
    app = tracer.instrument(_app, tracer_provider=provider)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="on", log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive()
            time.sleep(0.01)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            assert [client.get(f"/r{i}").status_code for i in range(3)] == [200, 200, 200]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
    deadline = time.monotonic() + 10
    while len([s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    servers = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert sorted(label(s) for s in servers) == ["GET /r0", "GET /r1", "GET /r2"]
    for span in servers:
        assert span.attributes["server.port"] == port
        assert span.attributes["client.address"] == "127.0.0.1"
        assert span.attributes["network.protocol.version"] == "1.1"
    names = {s.name for s in exporter.get_finished_spans()}
    assert "lifespan startup" in names

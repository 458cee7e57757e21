"""A websocket endpoint that takes binary messages only is probed with a binary message.

The websocket probe's message is JSON text. An endpoint whose clients send binary frames
(Starlette's ``receive_bytes``, a ``WebSocketEndpoint`` with ``encoding = "bytes"``) refuses
it: it raises on it, or closes with 1003. That is the app's choice, not a protocol mistake, so
``check_app`` probes the endpoint again with a binary message and judges that session; the
refusal is a note. An endpoint that fails on the binary message too keeps its crash.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.endpoints import WebSocketEndpoint
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from tracer.conformance.base import format_site
from tracer.conformance.driver import check_app
from tracer.conformance.findings import render_json, render_text

pytestmark = pytest.mark.timeout(60)


def line_of(marker: str) -> str:
    """``file:line`` (as a recording names it) of the line of this file ending in ``# marker``."""
    lines = Path(__file__).read_text(encoding="utf-8").splitlines()
    [number] = [n for n, text in enumerate(lines, 1) if text.endswith(f"# {marker}")]
    return format_site((__file__, number))


async def echo_bytes(websocket: WebSocket) -> None:
    await websocket.accept()
    data = await websocket.receive_bytes()  # bytes only
    await websocket.send_bytes(data)
    await websocket.close()


async def bytes_then_bad_close(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.receive_bytes()
    await websocket.close(code=1005)  # breaks WS-004


class BytesEndpoint(WebSocketEndpoint):
    """Starlette's endpoint for binary clients: closes 1003 on a text frame, then raises."""

    encoding = "bytes"

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        await websocket.send_bytes(data)


async def raises_on_anything(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    await receive()
    raise ValueError("no message is good")  # raises on anything


def ws_app(endpoint: Any) -> Starlette:
    return Starlette(routes=[WebSocketRoute("/ws", endpoint)])


def test_receive_bytes_endpoint_is_probed_with_bytes_and_passes() -> None:
    """Starlette's receive_bytes raises KeyError on the text message: no "app raised", no
    finding; the probe passes on the binary message and a note says why it was sent."""
    report = check_app(ws_app(echo_bytes), paths=["/ws"])
    assert report.crashes == []
    assert report.findings == []
    assert "websocket /ws" in report.requests
    assert report.notes == [
        "websocket /ws: the app refused the text message (raised KeyError: 'bytes' at "
        f"{line_of('bytes only')}); probed with a binary one"
    ]
    assert f"note: {report.notes[0]}\n" in render_text(report)
    assert json.loads(render_json(report))["notes"] == report.notes


def test_bytes_endpoint_closing_1003_is_probed_with_bytes() -> None:
    """A WebSocketEndpoint with encoding "bytes" closes 1003 on text (then raises): probed
    with bytes, it echoes, and the check is clean."""
    report = check_app(ws_app(BytesEndpoint), paths=["/ws"])
    assert report.crashes == [] and report.findings == []
    assert report.notes == [
        "websocket /ws: the app refused the text message (closed the connection with 1003); "
        "probed with a binary one"
    ]


def test_the_binary_session_is_judged() -> None:
    """What the endpoint does wrong once it has its binary message is the probe's finding."""
    report = check_app(ws_app(bytes_then_bad_close), paths=["/ws"])
    assert report.crashes == []
    assert [(f.rule, f.request) for f in report.findings] == [("WS-004", "websocket /ws")]


def test_an_endpoint_failing_on_bytes_too_keeps_its_crash() -> None:
    """An app that raises on the binary message too: the text session stands, its crash
    reported as before, and no note."""
    report = check_app(raises_on_anything, paths=["/"], timeout=2)
    [crash] = [c for c in report.crashes if c["request"] == "websocket /"]
    assert (crash["type"], crash["where"]) == ("ValueError", line_of("raises on anything"))
    assert report.notes == []

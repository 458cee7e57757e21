"""An ``IntEnum`` status or close code and a str subclass as text are what the ASGI spec asks
for (uvicorn, hypercorn and daphne send an ``HTTPStatus`` as its number; a ``Markup`` is str):
no finding. A bool is no status, and a bytearray body no byte string (daphne raises on it)."""

from __future__ import annotations

import asyncio
import enum
from http import HTTPStatus
from typing import Any

import pytest
from markupsafe import Markup

from tracer.conformance.driver import check_app
from tracer.conformance.probe_clients import WebSocketClient

pytestmark = pytest.mark.timeout(60)

TEXT = [(b"content-type", b"text/plain")]


class Code(enum.IntEnum):
    """An application's own close codes, as ``websockets.frames.CloseCode`` declares them."""

    POLICY_VIOLATION = 1008
    GOING_AWAY = 1001
    NO_STATUS = 1005  # never sent by an endpoint


def _answering(status: Any, body: Any = b"short and stout") -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": status, "headers": TEXT})
        await send({"type": "http.response.body", "body": body})

    return app


def _closing(code: Any, text: Any = "hi", reason: Any = None) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": TEXT})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        if scope["type"] != "websocket":
            return
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        await send({"type": "websocket.send", "text": text})
        close: dict[str, Any] = {"type": "websocket.close", "code": code}
        if reason is not None:
            close["reason"] = reason
        await send(close)

    return app


def _rules(app: Any) -> list[str]:
    report = check_app(app, paths=["/"], timeout=2.0)
    assert not report.crashes
    return sorted({finding.rule for finding in report.findings})


def test_an_intenum_status_is_an_int() -> None:
    """``HTTPStatus.IM_A_TEAPOT`` is status 418: no HTTP-006."""
    assert _rules(_answering(HTTPStatus.IM_A_TEAPOT)) == []


def test_an_intenum_status_is_judged_by_its_number() -> None:
    """An ``HTTPStatus.NO_CONTENT`` with a body is HTTP-025, as a plain 204 would be."""
    assert _rules(_answering(HTTPStatus.NO_CONTENT)) == ["HTTP-025"]


def test_a_bool_status_is_not_an_int() -> None:
    """``True`` would go out as status 1 (uvicorn drops the connection, hypercorn answers 500,
    daphne writes ``HTTP/1.1 1``): HTTP-006, and nothing that only follows from it."""
    assert _rules(_answering(True)) == ["HTTP-006"]


@pytest.mark.parametrize("body", [bytearray(b"hello"), memoryview(b"hello")], ids=type)
def test_a_bytearray_or_memoryview_body_stays_http_014(body: Any) -> None:
    """The spec's byte string is ``bytes``, and daphne raises "Data must be bytes" on these."""
    assert _rules(_answering(200, body)) == ["HTTP-014"]


def test_a_bytes_subclass_body_is_bytes() -> None:
    """A subclass of bytes is bytes (twisted, under daphne, checks isinstance too)."""

    class Chunk(bytes):
        pass

    assert _rules(_answering(200, Chunk(b"hello"))) == []


def test_an_intenum_close_code_and_markup_text_are_valid() -> None:
    """``Code.POLICY_VIOLATION`` is close code 1008, a ``Markup`` text frame is str, and a
    str subclass as reason is str: no WS-004, WS-006 or WS-009."""
    app = _closing(Code.POLICY_VIOLATION, Markup("<b>hi</b>"), Markup("policy"))
    assert _rules(app) == []


def test_an_intenum_close_code_is_judged_by_its_number() -> None:
    """An IntEnum holding 1005 (reserved: never sent) is WS-004 as 1005 is."""
    assert _rules(_closing(Code.NO_STATUS)) == ["WS-004"]


def test_a_bool_close_code_is_no_code() -> None:
    """``True`` is no close code: WS-004."""
    assert _rules(_closing(True)) == ["WS-004"]


def test_the_probe_client_hears_an_intenum_close_code_as_its_number() -> None:
    """The client disconnects with the code the app closed with (1001), not the 1000 it
    assumed for a code that is not exactly an int."""

    async def session() -> dict[str, Any]:
        client = WebSocketClient(leave_at=asyncio.get_running_loop().time() + 5)
        assert (await client.receive())["type"] == "websocket.connect"
        await client.send({"type": "websocket.accept"})
        assert (await client.receive())["type"] == "websocket.receive"
        await client.send({"type": "websocket.close", "code": Code.GOING_AWAY})
        return await client.receive()

    disconnect = asyncio.run(session())
    assert disconnect == {"type": "websocket.disconnect", "code": 1001}
    assert type(disconnect["code"]) is int

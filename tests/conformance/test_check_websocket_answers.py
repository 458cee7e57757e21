"""``trace check``'s websocket probe, as a real server's: an HTTP answer from a framework that
routes websocket scopes is judged (WS-010), and a send after the client closed raises, so what
an app sends after that is judged too (WS-003), as it is under uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

import tracer
from tracer import events as K
from tracer.conformance.driver import check_app, plan_for

pytestmark = pytest.mark.timeout(60)

TEXT = [(b"content-type", b"text/plain")]


async def http_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers every scope as HTTP, whatever its type (it ignores lifespan too)."""
    if scope["type"] == "lifespan":
        return
    await send({"type": "http.response.start", "status": 200, "headers": TEXT})
    await send({"type": "http.response.body", "body": b"hello"})


def _found(app: Any, paths: list[str] | None = None) -> dict[str, list[str]]:
    report = check_app(app, paths=paths)
    found: dict[str, list[str]] = {}
    for finding in report.findings:
        found.setdefault(finding.rule, []).append(finding.request)
    assert report.crashes == []
    return found


def test_an_http_answer_routed_by_a_websocket_framework_is_ws_010_alone() -> None:
    """Starlette routes the websocket session to the HTTP-only app it mounts, which answers
    it as HTTP: that is the app's answer (uvicorn fails it), judged, not skipped; returning
    after it is not also "never answered the handshake" (WS-013)."""
    app = Starlette(routes=[Mount("/legacy", app=http_only)])
    report = check_app(app)
    assert "websocket /legacy/" in report.requests and report.skipped == []
    assert [(f.rule, f.request) for f in report.findings] == [("WS-010", "websocket /legacy/")]
    assert [p.http_answer_judged for p in plan_for(app, ["/x"], websocket=True)][-1] is True


def test_a_plain_http_only_app_is_still_skipped() -> None:
    """No framework routes its websocket scopes: the probe does not apply to it."""
    report = check_app(http_only)
    assert "websocket /: the app does not handle websocket scopes" in report.skipped
    assert report.findings == []


async def _handshake(receive: Any, send: Any) -> str:
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    message = await receive()
    return str(message.get("text"))


async def closes_again_when_its_close_fails(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Falcon's shape: a reader task waits for the next message; after the reply the app
    stops it (the loop runs), then closes, and when that send fails it closes again (1011)."""
    if scope["type"] != "websocket":
        return await http_only(scope, receive, send)
    text = await _handshake(receive, send)
    reader = asyncio.ensure_future(receive())
    await asyncio.sleep(0)  # the reader is waiting in receive()
    await send({"type": "websocket.send", "text": text})
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader
    try:
        await send({"type": "websocket.close", "code": 1000})
    except OSError:
        await send({"type": "websocket.close", "code": 1011})
        raise


async def closes_with_its_reply(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Replies and closes in one step: its close is sent before the client's arrives."""
    if scope["type"] != "websocket":
        return await http_only(scope, receive, send)
    text = await _handshake(receive, send)
    await send({"type": "websocket.send", "text": text})
    await send({"type": "websocket.close", "code": 1000})


async def sends_on_after_its_reply(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Lets the loop run after its reply, then sends again: that send raises (the client
    closed on the reply), and the app lets the error end it, as ASGI spec 2.4 allows."""
    if scope["type"] != "websocket":
        return await http_only(scope, receive, send)
    text = await _handshake(receive, send)
    await send({"type": "websocket.send", "text": text})
    await asyncio.sleep(0)
    await send({"type": "websocket.send", "text": "more"})


def test_a_second_close_after_a_failed_one_is_ws_003() -> None:
    """The client closed on the reply; the reader the app cancels then ends cancelled (as in
    a server's receive, not handed the disconnect), the app's close after the loop ran raises,
    and its close after that is a message after the connection closed. What the app then
    raised is how it learnt the client left, not a crash."""
    recorder = tracer.Recorder()
    report = check_app(closes_again_when_its_close_fails, paths=["/"], recorder=recorder)
    assert report.crashes == []
    assert [(f.rule, f.request) for f in report.findings] == [("WS-003", "websocket /")]
    recorder.drain()
    session = [e for e in recorder.events if e.req == report_req(recorder, "websocket")]
    closes = [
        (e.data["code"], e.data.get("raised"))
        for e in session
        if e.kind == K.ASGI_SEND and e.data["type"] == "websocket.close"
    ]
    assert closes == [(1000, "ClientLeft"), (1011, "ClientLeft")]
    receives = [
        e.data.get("type") or e.data.get("raised") for e in session if e.kind == K.ASGI_RECEIVE
    ]
    assert receives == ["websocket.connect", "websocket.receive", "CancelledError"]


def report_req(recorder: tracer.Recorder, scope_type: str) -> int | None:
    """The request id of the (one) connection of ``scope_type`` in the recording."""
    return next(
        e.req
        for e in recorder.events
        if e.kind == K.REQUEST_START and e.data.get("scope_type") == scope_type
    )


@pytest.mark.parametrize("app", [closes_with_its_reply, sends_on_after_its_reply])
def test_a_close_with_the_reply_or_a_send_that_raises_is_no_finding(app: Any) -> None:
    assert _found(app, ["/"]) == {}


# -- the frameworks themselves, where installed ---------------------------------------------------


def test_sanic_answering_a_websocket_at_an_http_route_is_ws_010() -> None:
    """Sanic routes the websocket scope to its HTTP handler, whose response it sends as
    ``http.response.start``: WS-010 (uvicorn and hypercorn fail that session with a 500)."""
    sanic = pytest.importorskip("sanic")
    app = sanic.Sanic(f"answers_{uuid.uuid4().hex[:8]}")

    async def hello(request: Any) -> Any:
        return sanic.text("hello")

    app.add_route(hello, "/")
    assert _found(app) == {"WS-010": ["websocket /"]}


def test_falcon_closing_after_the_client_is_ws_003() -> None:
    """Falcon's ASGI app stops its reader after the responder returns and then closes; when
    the client closed first that close raises (as uvicorn's does), and Falcon's error handler
    closes once more (1011): WS-003."""
    pytest.importorskip("falcon")
    import falcon.asgi

    class Echo:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            await ws.send_text(await ws.receive_text())

    app = falcon.asgi.App()
    app.add_route("/echo", Echo())
    assert _found(app) == {"WS-003": ["websocket /echo"]}

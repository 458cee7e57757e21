"""The websocket probe's client holds its messages until the app answered the handshake, and
waits for the reply to its message before it closes, as a server and a real client do: an app
whose reader task calls ``receive`` before it accepts (Quart's shape) is judged on what it
does, not on a disconnect no server would have delivered yet."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import tracer
from tracer import events as K
from tracer.cli import main
from tracer.conformance.driver import check_app

pytestmark = pytest.mark.timeout(60)

THIS = str(Path(__file__).resolve())


async def _not_found(send: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 404,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": b"ws only"})


async def wspump(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A correct echo: a reader task pulls messages from the start, the handler accepts after
    a step of its own (an auth lookup, say) and echoes what the reader queued."""
    if scope["type"] == "http":
        await _not_found(send)
        return
    if scope["type"] != "websocket":
        return
    assert (await receive())["type"] == "websocket.connect"
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def pump() -> None:
        while True:
            message = await receive()
            await inbox.put(message)
            if message["type"] == "websocket.disconnect":
                return

    reader = asyncio.create_task(pump())
    await asyncio.sleep(0)
    await send({"type": "websocket.accept"})
    while (message := await inbox.get())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "text": message.get("text") or ""})
    await reader


async def quart_shaped(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Quart's shape: a reader task (it takes websocket.connect too) and a handler task side by
    side, the first to end cancelling the other. The handler echoes at /ws and denies every
    other path with a 404 denial response (the scope offers websocket.http.response)."""
    if scope["type"] == "http":
        await _not_found(send)
        return
    if scope["type"] != "websocket":
        return
    queue: asyncio.Queue[str] = asyncio.Queue()

    async def reader() -> None:
        while True:
            event = await receive()
            if event["type"] == "websocket.receive":
                await queue.put(event.get("text") or "")
            elif event["type"] == "websocket.disconnect":
                return

    async def handler() -> None:
        if scope["path"] != "/ws":
            headers = [(b"content-length", b"9")]
            await send({"type": "websocket.http.response.start", "status": 404, "headers": headers})
            await send({"type": "websocket.http.response.body", "body": b"not found"})
            return
        await send({"type": "websocket.accept"})
        while True:
            await send({"type": "websocket.send", "text": await queue.get()})

    tasks = {asyncio.ensure_future(reader()), asyncio.ensure_future(handler())}
    _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


async def sends_after_close(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The reader-task shape with a real mistake: a websocket.send after its own close."""
    if scope["type"] == "http":
        await _not_found(send)
        return
    if scope["type"] != "websocket":
        return
    await receive()
    seen: list[str] = []

    async def pump() -> None:
        while (message := await receive())["type"] != "websocket.disconnect":
            seen.append(message["type"])

    reader = asyncio.create_task(pump())
    await asyncio.sleep(0)
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": 1000})
    await send({"type": "websocket.send", "text": "too late"})  # breaks WS-003
    await reader


async def never_answers(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the connection to its end and never accepts nor closes the handshake."""
    if scope["type"] == "http":
        await _not_found(send)
        return
    if scope["type"] != "websocket":
        return
    while (await receive())["type"] != "websocket.disconnect":
        pass


def _messages(recorder: tracer.Recorder, scope_type: str = "websocket") -> list[tuple[str, Any]]:
    """(kind, message type) of each receive and send of the one connection of ``scope_type``."""
    events = recorder.events
    req = next(
        e.req
        for e in events
        if e.kind == K.REQUEST_START and e.data.get("scope_type") == scope_type
    )
    io = (K.ASGI_RECEIVE, K.ASGI_SEND)
    return [(e.kind, e.data["type"]) for e in events if e.req == req and e.kind in io]


def test_a_reader_task_that_receives_before_accepting_is_clean() -> None:
    """The brief's repro: no WS-003; the session goes connect, accept, message, echo, close."""
    recorder = tracer.Recorder()
    report = check_app(wspump, paths=["/ws"], recorder=recorder)
    assert "websocket /ws" in report.requests
    assert report.findings == [] and report.crashes == []
    assert _messages(recorder) == [
        (K.ASGI_RECEIVE, "websocket.connect"),
        (K.ASGI_SEND, "websocket.accept"),
        (K.ASGI_RECEIVE, "websocket.receive"),
        (K.ASGI_SEND, "websocket.send"),
        (K.ASGI_RECEIVE, "websocket.disconnect"),
    ]


def test_trace_check_of_the_reader_task_app_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """``trace check wspump:app --path /ws`` reports nothing and exits 0."""
    assert main(["check", f"{THIS}:wspump", "--path", "/ws"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("no violations in 5 requests")


def test_a_quart_shaped_app_echoes_and_denies_cleanly() -> None:
    """Its echo route is no WS-003 and its denial of a plain path no WS-012: the reader task
    waits for the handshake's answer instead of seeing the client gone first."""
    report = check_app(quart_shaped, paths=["/ws", "/"])
    assert {"websocket /ws", "websocket /"} <= set(report.requests)
    assert [(f.rule, f.request) for f in report.findings] == []


def test_a_quart_shaped_denial_ends_the_session_after_its_body() -> None:
    """The denial is the whole exchange: only then does the reader hear the client is gone."""
    recorder = tracer.Recorder()
    check_app(quart_shaped, paths=["/"], recorder=recorder)
    assert _messages(recorder) == [
        (K.ASGI_RECEIVE, "websocket.connect"),
        (K.ASGI_SEND, "websocket.http.response.start"),
        (K.ASGI_SEND, "websocket.http.response.body"),
        (K.ASGI_RECEIVE, "websocket.disconnect"),
    ]


def test_a_send_after_close_is_still_found_and_named() -> None:
    """The real mistake is reported as the websocket.send it is, not as the accept."""
    report = check_app(sends_after_close, paths=["/ws"])
    found = [(f.rule, f.request, f.message) for f in report.findings]
    assert found == [
        ("WS-003", "websocket /ws", "message sent after the connection closed: websocket.send")
    ]


def test_a_handshake_never_answered_is_left_by_the_client() -> None:
    """Nothing but the client's leaving (1006, at half the timeout) follows the connect: the
    app that waits for more hears the client is gone and returns; no hang (CHK-001), and
    nothing left to answer once the client went (no WS-013)."""
    recorder = tracer.Recorder()
    report = check_app(never_answers, paths=["/ws"], timeout=0.5, recorder=recorder)
    assert "websocket /ws" in report.requests
    assert report.findings == []
    assert _messages(recorder) == [
        (K.ASGI_RECEIVE, "websocket.connect"),
        (K.ASGI_RECEIVE, "websocket.disconnect"),
    ]
    codes = [e.data.get("code") for e in recorder.events if e.kind == K.ASGI_RECEIVE]
    assert codes[-1] == 1006

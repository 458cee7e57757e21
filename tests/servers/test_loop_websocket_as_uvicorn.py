"""The ``loop`` model's websocket sessions end as uvicorn's (wsproto implementation) do.

What ``send`` raises once the session is over, the ``websocket.disconnect`` codes, the
scope's ``subprotocols``, which server message the model's client takes for its reply, and a
session of no messages. Each app runs on the real model through the real ASGI shim.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from model_driver import by_kind, running
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from tracer import events as K
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.servers import Request, Response, ServerModel
from tracer.servers.waits import monotonic, sleep

pytestmark = pytest.mark.timeout(60)


def _session(messages: int, headers: tuple[tuple[str, str], ...] = ()) -> Request:
    return Request(path="/ws", websocket=True, ws_messages=messages, headers=headers)


def _send(model: ServerModel, requests: list[Request], timeout: float = 10.0) -> list[Response]:
    async def main() -> list[Response]:
        return list(
            await asyncio.gather(*(model.target.request(r, timeout=timeout) for r in requests))
        )

    return asyncio.run(main())


def _ended(recorder: Recorder, reqs: set[int]) -> None:
    """Wait (at most 5 s) until the app's side of every session in ``reqs`` has ended (the
    shim's ``request.end`` without a client-side ``error: timeout``)."""
    deadline = monotonic() + 5.0
    while monotonic() < deadline:
        done = {
            e.req
            for e in recorder.events
            if e.kind == K.REQUEST_END and e.data.get("error") != "timeout"
        }
        if reqs <= done:
            return
        sleep(0.005)


def _calls(events: list[Event], req: int) -> list[tuple[str, Any]]:
    """The app's ASGI calls of ``req`` in order: (type, code or raised)."""
    calls = [e for e in events if e.req == req and e.kind in (K.ASGI_RECEIVE, K.ASGI_SEND)]
    calls.sort(key=lambda e: (e.t, e.seq))
    return [(e.data["type"], e.data.get("raised") or e.data.get("code")) for e in calls]


# -- what send raises once the session is over ---------------------------------------------

_left = threading.Event()
"""Set by a test once its client has timed out and left."""
_raised: list[BaseException] = []


async def _wait_until_the_client_left() -> None:
    for _ in range(2000):  # 10 s at most
        if _left.is_set():
            return
        await asyncio.sleep(0.005)


async def sends_after_the_client_left(scope: Any, receive: Any, send: Any) -> None:
    """Echoes its first message only after the client gave up on it."""
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    message = await receive()
    await _wait_until_the_client_left()
    try:
        await send({"type": "websocket.send", "text": message["text"]})
    except BaseException as exc:
        _raised.append(exc)


async def slow_endpoint(websocket: WebSocket) -> None:
    """A Starlette endpoint that handles the client's leaving, as a correct app does."""
    await websocket.accept()
    try:
        text = await websocket.receive_text()
        await _wait_until_the_client_left()
        await websocket.send_text(text)
    except WebSocketDisconnect as exc:
        _raised.append(exc)


starlette_app = Starlette(routes=[WebSocketRoute("/ws", slow_endpoint)])


def _after_the_client_left(app: Any) -> tuple[Response, Recorder]:
    _left.clear()
    _raised.clear()
    with running("loop", app) as (model, recorder):
        [response] = _send(model, [_session(1)], timeout=0.2)
        _left.set()
        _ended(recorder, {response.req})
    return response, recorder


def test_a_send_after_the_client_left_raises_an_oserror_as_uvicorn_s() -> None:
    """uvicorn's ``send`` raises ``ClientDisconnected`` (an ``OSError``) once the client is
    gone; the model raised ``RuntimeError: ... after sending 'websocket.close'``, which the app
    never sent."""
    response, recorder = _after_the_client_left(sends_after_the_client_left)
    assert response.error == "timeout"
    [exc] = _raised
    assert isinstance(exc, OSError) and type(exc).__name__ == "ClientDisconnected"
    assert _calls(recorder.events, response.req)[-1] == ("websocket.send", "ClientDisconnected")


def test_a_starlette_endpoint_ends_cleanly_after_the_client_left() -> None:
    """Starlette turns the ``OSError`` into ``WebSocketDisconnect``, which the endpoint
    catches: the session is the client's timeout and nothing else, as under uvicorn (the
    model made it an app ``RuntimeError``)."""
    response, recorder = _after_the_client_left(starlette_app)
    assert response.error == "timeout"
    [exc] = _raised
    assert isinstance(exc, WebSocketDisconnect) and exc.code == 1006
    assert [e for e in recorder.events if e.kind == K.ERROR and e.req == response.req] == []
    ends = [e.data for e in by_kind(recorder.events, K.REQUEST_END) if e.req == response.req]
    assert [end.get("error") for end in ends] == ["timeout", None]


async def sends_after_its_own_close(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    await receive()
    await send({"type": "websocket.close", "code": 1000})
    try:
        await send({"type": "websocket.send", "text": "late"})
    except BaseException as exc:
        _raised.append(exc)


def test_a_send_after_the_app_s_own_close_is_still_a_runtime_error() -> None:
    _raised.clear()
    with running("loop", sends_after_its_own_close) as (model, recorder):
        [response] = _send(model, [_session(1)])
        _ended(recorder, {response.req})
    [exc] = _raised
    assert type(exc) is RuntimeError
    assert str(exc) == "Unexpected ASGI message 'websocket.send', after sending 'websocket.close'."


# -- websocket.disconnect codes ----------------------------------------------------------------


async def closes_before_accepting(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.close", "code": 1008})
    await receive()


def test_a_close_before_accepting_is_followed_by_1006() -> None:
    """uvicorn queues ``{"code": 1006}`` when the app refuses the handshake (the model said
    1000)."""
    with running("loop", closes_before_accepting) as (model, recorder):
        [response] = _send(model, [_session(1)])
        _ended(recorder, {response.req})
    assert response.status == 403
    assert _calls(recorder.events, response.req) == [
        ("websocket.connect", None),
        ("websocket.close", 1008),
        ("websocket.disconnect", 1006),
    ]


async def never_replies(scope: Any, receive: Any, send: Any) -> None:
    """Accepts (unless the path says not to), then reads until the client leaves."""
    if scope["type"] != "websocket":
        return
    await receive()
    if scope["path"] != "/unanswered":
        await send({"type": "websocket.accept"})
    while (await receive())["type"] != "websocket.disconnect":
        pass


def test_a_client_that_leaves_gives_1005_after_the_handshake_and_1006_before() -> None:
    """uvicorn's ``connection_lost``: 1005 once the handshake was answered, 1006 before (the
    model said 1006 for both)."""
    unanswered = Request(path="/unanswered", websocket=True, ws_messages=1)
    with running("loop", never_replies) as (model, recorder):
        accepted, refused = _send(model, [_session(1), unanswered], timeout=0.2)
        _ended(recorder, {accepted.req, refused.req})
    assert (accepted.error, refused.error) == ("timeout", "timeout")
    assert _calls(recorder.events, accepted.req)[-1] == ("websocket.disconnect", 1005)
    assert _calls(recorder.events, refused.req) == [
        ("websocket.connect", None),
        ("websocket.disconnect", 1006),
    ]


async def reads_late(scope: Any, receive: Any, send: Any) -> None:
    """Accepts, and reads only once the client has left."""
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    await _wait_until_the_client_left()
    while (await receive())["type"] != "websocket.disconnect":
        pass


def test_a_message_that_arrived_comes_before_the_disconnect() -> None:
    """uvicorn's queue holds the client's message ahead of the disconnect its leaving adds:
    an app that reads late gets the message, then 1005 (the model dropped the message)."""
    response, recorder = _after_the_client_left(reads_late)
    assert response.error == "timeout"
    assert _calls(recorder.events, response.req) == [
        ("websocket.connect", None),
        ("websocket.accept", None),
        ("websocket.receive", None),
        ("websocket.disconnect", 1005),
    ]


# -- subprotocols -------------------------------------------------------------------------------

_scopes: list[dict[str, Any]] = []


async def picks_a_subprotocol(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "websocket":
        return
    _scopes.append(scope)
    await receive()
    offered = scope["subprotocols"]
    await send({"type": "websocket.accept", "subprotocol": offered[0] if offered else None})
    while (await receive())["type"] != "websocket.disconnect":
        pass


def test_the_scope_lists_the_subprotocols_the_client_offered() -> None:
    """``Sec-WebSocket-Protocol`` headers, split at their commas, in order, as uvicorn lists
    them; none offered is ``[]`` (the model always said ``[]``)."""
    offered = (("Sec-WebSocket-Protocol", "chat, superchat"), ("Sec-WebSocket-Protocol", "v2"))
    _scopes.clear()
    with running("loop", picks_a_subprotocol) as (model, recorder):
        # One after the other: the scopes are then in the order sent.
        responses = [_send(model, [request])[0] for request in (_session(0, offered), _session(0))]
        _ended(recorder, {r.req for r in responses})
    assert [r.status for r in responses] == [101, 101]
    assert [scope["subprotocols"] for scope in _scopes] == [["chat", "superchat", "v2"], []]


# -- which server message is the reply ---------------------------------------------------------


async def welcome_then_echo(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": "welcome"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": message["text"]})


_SEND = ("websocket.send", None)
_RECEIVE = ("websocket.receive", None)
_OPEN = [("websocket.connect", None), ("websocket.accept", None)]


def test_a_welcome_is_no_reply() -> None:
    """The model's client sends its next message only for the reply to the one in flight, as
    ``tracer.client.websocket`` does: a welcome sent with the accept is none, so each session
    gives the app its 3 messages, each echoed, then closes normally. The model took the
    welcome for a reply: its client sent each next message, and its close, a reply early, so
    the app's last echo met a closed session."""
    with running("loop", welcome_then_echo) as (model, recorder):
        responses = _send(model, [_session(3) for _ in range(5)])
        _ended(recorder, {r.req for r in responses})
    assert [(r.status, r.error) for r in responses] == [(101, None)] * 5
    for response in responses:
        assert _calls(recorder.events, response.req) == [
            *_OPEN,
            _SEND,  # the welcome
            *[_RECEIVE, _SEND] * 3,
            ("websocket.disconnect", 1000),
        ], response.req


# -- a session of no messages ------------------------------------------------------------------


async def echo(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "websocket":
        return
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            return


def test_a_session_of_no_messages_opens_and_closes() -> None:
    """``--ws-messages 0``: connect, accept, the client's normal close; nothing else."""
    with running("loop", echo) as (model, recorder):
        responses = _send(model, [_session(0), _session(0)])
        _ended(recorder, {r.req for r in responses})
    assert [(r.status, r.error) for r in responses] == [(101, None)] * 2
    for response in responses:
        assert _calls(recorder.events, response.req) == [
            ("websocket.connect", None),
            ("websocket.accept", None),
            ("websocket.disconnect", 1000),
        ]

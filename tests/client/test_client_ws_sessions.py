"""WebSocket sessions the server shapes: closed with an error code, or with a message the
client did not ask for (a welcome after the accept). Against uvicorn."""

from __future__ import annotations

import socketserver
import threading
from typing import Any

import pytest
from client_servers import HOST, serve_uvicorn
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Request, TextMessage

from tracer import events as K
from tracer.client import ClientConfig, run_client
from tracer.recorder import Recorder
from tracer.request_span import request_spans

pytestmark = pytest.mark.timeout(60)

CLOSED_WITH_ERROR = "WebSocketClosedWithError"

app_errors: list[str] = []
"""What the app's sends raised (a send into a session the client had closed)."""


async def ws_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``/close/<code>``: echo, then close with ``code`` on the second message. ``/welcome``:
    a welcome right after the accept, then echo."""
    if scope["type"] != "websocket":
        return
    path = scope["path"]
    received = 0
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.accept"})
                if path == "/welcome":
                    await send({"type": "websocket.send", "text": "welcome"})
            elif message["type"] == "websocket.receive":
                received += 1
                if path.startswith("/close/") and received == 2:
                    code = int(path.rsplit("/", 1)[1])
                    await send({"type": "websocket.close", "code": code, "reason": "boom"})
                    return
                await send({"type": "websocket.send", "text": message.get("text") or ""})
            else:
                return
    except Exception as exc:  # the server's own exception type for a closed session
        app_errors.append(type(exc).__name__)


def _sessions(path: str, *, requests: int = 4, messages: int = 3) -> tuple[Any, Recorder]:
    recorder = Recorder()
    config = ClientConfig(concurrency=2, requests=requests, ws_messages=messages, paths=(path,))
    with serve_uvicorn(ws_app) as port:
        stats = run_client(HOST, port, config, recorder=recorder)
    return stats, recorder


def _responses(recorder: Recorder) -> list[dict[str, Any]]:
    return [dict(e.data) for e in recorder.events if e.kind == K.CLIENT_RESPONSE]


def test_a_session_closed_with_1011_is_an_error_with_its_code() -> None:
    """The app closes with 1011 (internal error) on the second message: each session keeps
    status 101 and its one reply, records the code, and counts as an error, in the client's
    stats and in the summary's rule (``RequestSpan.failed``)."""
    stats, recorder = _sessions("/close/1011")
    assert stats.status == {101: 4}
    assert (stats.completed, stats.errors, dict(stats.error_types)) == (
        0, 4, {CLOSED_WITH_ERROR: 4},
    )  # fmt: skip
    for data in _responses(recorder):
        assert (data["status"], data["messages"], data["close_code"]) == (101, 1, 1011)
        assert data["error"] == CLOSED_WITH_ERROR
        assert data["message"] == "the server closed the session with code 1011 (boom)"
    spans = request_spans(recorder.recording().events)
    assert len(spans) == 4 and all(span.failed for span in spans.values())


@pytest.mark.parametrize("code", [1000, 1001])
def test_a_session_closed_normally_early_is_not_an_error(code: int) -> None:
    """A normal close (1000, 1001) after one reply of three: no error, ``messages`` 1."""
    stats, recorder = _sessions(f"/close/{code}")
    assert (stats.completed, stats.errors) == (4, 0)
    for data in _responses(recorder):
        assert (data["status"], data["messages"], data["close_code"]) == (101, 1, code)
        assert "error" not in data


def test_a_clean_session_records_the_servers_close_code() -> None:
    """The client closes after its replies; uvicorn answers its close with 1000."""
    stats, recorder = _sessions("/echo")
    assert (stats.completed, stats.errors) == (4, 0)
    for data in _responses(recorder):
        assert (data["messages"], data["close_code"]) == (3, 1000)
        assert "unprompted" not in data


def test_a_welcome_message_is_not_taken_for_a_reply_under_uvicorn() -> None:
    """uvicorn sends the app's welcome right after the handshake's answer, most often in the
    same read: it is then unprompted, and each of the 3 messages gets its own echo before the
    client closes. (Taken for the first reply, the client closed a reply early, recorded 4
    replies for 3 messages, and the app's last send met a closed session.) A welcome that
    comes in a read of its own, after the first message went out, cannot be told from its
    reply; every session still records 3 replies and no error."""
    app_errors.clear()
    stats, recorder = _sessions("/welcome", requests=10)
    assert (stats.completed, stats.errors) == (10, 0)
    responses = _responses(recorder)
    assert [data["messages"] for data in responses] == [3] * 10
    assert all(data.get("unprompted", 0) <= 1 for data in responses)
    welcomed = [data for data in responses if data.get("unprompted") == 1]
    assert welcomed, "no session saw the welcome apart from the replies"
    for data in welcomed:
        assert data["bytes"] == len("welcome") + 3 * len("message 1")
    assert len(app_errors) <= 10 - len(welcomed)


class _Welcoming(socketserver.StreamRequestHandler):
    """A WebSocket server (wsproto) that writes its handshake answer and a welcome message in
    one write, then echoes each text message; notes per session the messages it echoed before
    the client's close came."""

    echoed_before_close: list[int] = []

    def handle(self) -> None:
        ws = WSConnection(ConnectionType.SERVER)
        echoed = 0
        while data := self.request.recv(65536):
            ws.receive_data(data)
            out = b""
            for event in ws.events():
                if isinstance(event, Request):
                    out += ws.send(AcceptConnection()) + ws.send(TextMessage(data="welcome"))
                elif isinstance(event, TextMessage):
                    out += ws.send(TextMessage(data=event.data))
                    echoed += 1
                elif isinstance(event, CloseConnection):
                    self.echoed_before_close.append(echoed)
                    out += ws.send(event.response())
            self.request.sendall(out)


def test_a_welcome_in_the_handshakes_read_is_unprompted() -> None:
    """The welcome comes with the 101, before the first message was sent: it is no reply.
    Each session records 3 replies and 1 unprompted message, and closes only after the third
    echo (the server echoed 3 before the close reached it)."""
    _Welcoming.echoed_before_close = []
    recorder = Recorder()
    with socketserver.ThreadingTCPServer((HOST, 0), _Welcoming) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            config = ClientConfig(concurrency=2, requests=6, ws_messages=3, paths=("/ws",))
            stats = run_client(HOST, server.server_address[1], config, recorder=recorder)
        finally:
            server.shutdown()
    assert (stats.completed, stats.errors) == (6, 0)
    for data in _responses(recorder):
        assert (data["messages"], data["unprompted"], data["close_code"]) == (3, 1, 1000)
        assert data["bytes"] == len("welcome") + 3 * len("message 1")
    assert _Welcoming.echoed_before_close == [3] * 6

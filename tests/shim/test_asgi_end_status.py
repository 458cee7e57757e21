"""``request.end``'s status where the app gave the server no usable answer: an unanswered
websocket handshake (uvicorn's 500, checked against the real server) and a refused response
start (uvicorn's no answer; hypercorn's 500 differs, as documented), a status given as no int,
a client gone first (no status), and a ``websocket.disconnect`` without a code (1005)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from shim_asgi_apps import of, timeline, traced
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, RejectConnection, Request

from tracer import events as K
from tracer.recorder import Recorder
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(60)

HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _wait(condition: Callable[[], bool], what: str, bound: float = 10.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` past ``bound`` seconds."""
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen")
        time.sleep(0.01)


@contextmanager
def _uvicorn(app: Any) -> Iterator[int]:
    """Real uvicorn (wsproto for websockets) serving ``app`` in a thread; yields its port."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(
        app, host=HOST, port=port, log_level="critical", lifespan="off", ws="wsproto"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _wait(lambda: server.started, "uvicorn's start")
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def _hypercorn(app: Any) -> Iterator[int]:
    """Real hypercorn serving ``app`` in a thread; yields its port."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    port = _free_port()
    config = Config()
    config.bind = [f"{HOST}:{port}"]
    config.loglevel = "CRITICAL"
    config.errorlog = None
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def run() -> None:
        loop.run_until_complete(serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    _wait(lambda: _accepts(port), "hypercorn's start")
    try:
        yield port
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


def _accepts(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=1).close()
    except OSError:
        return False
    return True


def _http_status(port: int, path: str) -> int | None:
    """GET ``path`` on a fresh connection: the response's status, None if none came."""
    with socket.create_connection((HOST, port), timeout=10) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None


def _handshake(port: int, path: str) -> int:
    """A wsproto client's handshake on ``path``: 101 if accepted, else the status refused with."""
    ws = WSConnection(ConnectionType.CLIENT)
    with socket.create_connection((HOST, port), timeout=10) as conn:
        conn.sendall(ws.send(Request(host=f"{HOST}:{port}", target=path)))
        while True:
            data = conn.recv(65536)
            ws.receive_data(data or None)
            for event in ws.events():
                if isinstance(event, AcceptConnection):
                    return 101
                if isinstance(event, RejectConnection):
                    return int(event.status_code)
            assert data, "the server closed the connection without answering the handshake"


def _ends(recorder: Recorder, count: int) -> list[Any]:
    """The first ``count`` ``request.end`` events of connections other than the lifespan
    (hypercorn runs one), once the app has recorded them."""

    def ends() -> list[Any]:
        events = timeline(recorder)
        lifespans = {
            e.req for e in of(events, kind=K.REQUEST_START) if e.data["scope_type"] == "lifespan"
        }
        return [e for e in of(events, kind=K.REQUEST_END) if e.req not in lifespans]

    _wait(lambda: len(ends()) >= count, "request.end")
    return ends()[:count]


def _sends(recorder: Recorder) -> list[Any]:
    """The ``asgi.send`` events of connections other than the lifespan."""
    return [e for e in of(recorder.events, kind=K.ASGI_SEND) if e.data["type"].startswith("http.")]


async def _unanswered_websocket(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Receives ``websocket.connect`` and then returns (``/return``) or raises (``/raise``)."""
    assert (await receive())["type"] == "websocket.connect"
    if scope["path"] == "/raise":
        raise ValueError("ws boom")


def test_an_unanswered_websocket_handshake_is_uvicorns_500() -> None:
    """The app neither accepts nor closes: uvicorn rejects the handshake with 500, and the
    websocket request's ``request.end`` says 500 (as for an http request), with the error."""
    shim, rec = traced(_unanswered_websocket)
    with _uvicorn(shim) as port:
        statuses = [_handshake(port, "/return"), _handshake(port, "/raise")]
        ends = _ends(rec, 2)
    assert statuses == [500, 500]
    assert [(e.data["status"], e.data["error"]) for e in ends] == [(500, None), (500, "ValueError")]


async def _refused_start(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A response start no HTTP/1.1 server can write: a header name with a space."""
    if scope["type"] == "lifespan":
        return  # served without one
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"bad name", b"v")]})


@pytest.mark.parametrize(("serve", "answered"), [(_uvicorn, None), (_hypercorn, 500)])
def test_a_refused_response_start_has_uvicorns_no_status(serve: Any, answered: Any) -> None:
    """The server's send refuses the start (h11's ``LocalProtocolError``) and the app lets it
    out: uvicorn closes the connection without a response, hypercorn answers 500 (the
    documented difference); ``request.end`` has uvicorn's answer, no status, and the error."""
    shim, rec = traced(_refused_start)
    with serve(shim) as port:
        status = _http_status(port, "/")
        [end] = _ends(rec, 1)
    assert status == answered
    assert (end.data["status"], end.data["error"]) == (None, "LocalProtocolError")
    [start] = _sends(rec)
    assert (start.data["status"], start.data["raised"]) == (200, "LocalProtocolError")


async def _string_status(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Starts its response with the status as a string."""
    if scope["type"] == "lifespan":
        return  # served without one
    await receive()
    await send({"type": "http.response.start", "status": "200", "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_a_status_given_as_a_string_is_recorded_as_the_number_sent() -> None:
    """hypercorn takes ``"status": "200"`` and sends 200: ``request.end`` says the int 200
    (the ``asgi.send`` keeps the app's message as it was), and the summary counts a 200."""
    shim, rec = traced(_string_status)
    with _hypercorn(shim) as port:
        status = _http_status(port, "/")
        [end] = _ends(rec, 1)
    assert status == 200
    assert end.data["status"] == 200 and type(end.data["status"]) is int
    assert _sends(rec)[0].data["status"] == "200"
    assert summarize(timeline(rec))["status"] == {"200": 1}


@pytest.mark.parametrize(
    ("given", "recorded"),
    [("201", 201), (True, None), ("OK", None), (204.0, 204)],
)
def test_a_status_the_server_took_is_an_int_or_none(given: Any, recorded: int | None) -> None:
    """Whatever the app gave and a lenient server took, ``request.end`` has an int or null:
    ``int()`` of it (what hypercorn sends), null where that fails or for a bool."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": given, "headers": []})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def takes_anything(message: Any) -> None:
        pass

    shim, rec = traced(app)
    asyncio.run(shim({"type": "http", "method": "GET", "path": "/"}, receive, takes_anything))
    [end] = of(rec.events, kind=K.REQUEST_END)
    assert end.data["status"] == recorded and type(end.data["status"]) in (int, type(None))


@pytest.mark.parametrize("raises", [False, True])
def test_a_websocket_whose_client_left_before_an_answer_has_no_status(raises: bool) -> None:
    """The app received ``websocket.disconnect`` before answering the handshake: nobody is
    there to answer, so no 500 (as for an http request after ``http.disconnect``)."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while (await receive())["type"] != "websocket.disconnect":
            pass
        if raises:
            raise RuntimeError("gone")

    messages = iter([{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1006}])

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: Any) -> None:
        raise AssertionError("nothing is sent")

    async def main() -> None:
        try:
            await shim({"type": "websocket", "path": "/"}, receive, send)
        except RuntimeError:
            assert raises

    shim, rec = traced(app)
    asyncio.run(main())
    [end] = of(rec.events, kind=K.REQUEST_END)
    assert (end.data["status"], end.data["error"]) == (None, "RuntimeError" if raises else None)


def test_a_send_refused_for_a_lost_connection_leaves_no_500() -> None:
    """The server's send raised an ``OSError`` (uvicorn's ``ClientDisconnected``) on a body
    sent before any start: the connection is gone, nobody gets the 500 a refused body would
    get otherwise, so no status."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.body", "body": b"x"})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        raise ConnectionResetError("the client left")

    shim, rec = traced(app)
    with pytest.raises(ConnectionResetError):
        asyncio.run(shim({"type": "http", "method": "GET", "path": "/"}, receive, send))
    [end] = of(rec.events, kind=K.REQUEST_END)
    assert (end.data["status"], end.data["error"]) == (None, "ConnectionResetError")


def test_websocket_sends_after_a_lost_connection_count_nothing() -> None:
    """An accepted session sends 2 bytes, then a send raises ``ConnectionResetError``; the app
    catches it and sends 3 more, which the server takes silently: only the 2 bytes count."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "bytes": b"ok"})
        try:
            await send({"type": "websocket.send", "bytes": b"lost"})
        except ConnectionResetError:
            await send({"type": "websocket.send", "bytes": b"bye"})

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        if message.get("bytes") == b"lost":
            raise ConnectionResetError("the client left")

    shim, rec = traced(app)
    asyncio.run(shim({"type": "websocket", "path": "/"}, receive, send))
    [end] = of(rec.events, kind=K.REQUEST_END)
    sent = [(e.data["bytes"], e.data.get("raised")) for e in of(rec.events, kind=K.ASGI_SEND)]
    assert sent == [(None, None), (2, None), (4, "ConnectionResetError"), (3, None)]
    assert (end.data["status"], end.data["bytes_out"]) == (101, 2)


def test_a_websocket_disconnect_without_a_code_is_1005() -> None:
    """The ASGI spec: a server sets 1005 when the client sent no close code; a
    ``websocket.disconnect`` leaving ``code`` out is recorded so (a ``websocket.close`` without
    one is still 1000, the spec's default for it)."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        await send({"type": "websocket.close"})

    messages = iter([{"type": "websocket.connect"}, {"type": "websocket.disconnect"}])

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: Any) -> None:
        pass

    shim, rec = traced(app)
    asyncio.run(shim({"type": "websocket", "path": "/"}, receive, send))
    [_, disconnect] = of(rec.events, kind=K.ASGI_RECEIVE)
    [_, close] = of(rec.events, kind=K.ASGI_SEND)
    assert (disconnect.data["type"], disconnect.data["code"]) == ("websocket.disconnect", 1005)
    assert (close.data["type"], close.data["code"]) == ("websocket.close", 1000)

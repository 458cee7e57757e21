"""What the app sends once its peer is gone reaches nobody: after an ``http.disconnect`` or a
``websocket.disconnect`` it received, or after its own ``websocket.close``, its sends are still
recorded (``asgi.send``) but count in neither ``request.end``'s status nor its ``bytes_out``;
a send already under way when the disconnect came still counts."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from shim_asgi_apps import of, timeline, traced

from tracer import events as K

pytestmark = pytest.mark.timeout(60)

HOST = "127.0.0.1"
answered = threading.Event()
"""Set by ``_answers_after_the_disconnect`` once both its sends returned."""


async def _answers_after_the_disconnect(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads until ``http.disconnect``, then sends a 200 with a 4-byte body all the same."""
    while (await receive())["type"] != "http.disconnect":
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"late"})
    answered.set()


def _end_and_sends(rec: Any) -> tuple[Any, list[tuple[str, Any]]]:
    events = timeline(rec)
    [end] = of(events, kind=K.REQUEST_END)
    sends = [(e.data["type"], e.data["bytes"]) for e in of(events, kind=K.ASGI_SEND)]
    return end, sends


def test_sends_after_http_disconnect_count_nothing_in_process() -> None:
    """asgiref's communicator: the app received ``http.disconnect``, then sent a response:
    both sends are recorded, the end has no status and no bytes out."""
    shim, rec = traced(_answers_after_the_disconnect)

    async def main() -> None:
        app = ApplicationCommunicator(shim, {"type": "http", "method": "GET", "path": "/"})
        await app.send_input({"type": "http.request", "body": b"", "more_body": False})
        await app.send_input({"type": "http.disconnect"})
        await app.wait(5)

    asyncio.run(main())
    end, sends = _end_and_sends(rec)
    assert sends == [("http.response.start", None), ("http.response.body", 4)]
    assert (end.data["status"], end.data["bytes_out"], end.data["error"]) == (None, 0, None)


@contextmanager
def _uvicorn(app: Any) -> Iterator[int]:
    """Real uvicorn serving ``app`` in a thread; yields its port."""
    import uvicorn

    with socket.socket() as s:
        s.bind((HOST, 0))
        port = int(s.getsockname()[1])
    config = uvicorn.Config(app, host=HOST, port=port, log_level="critical", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def test_sends_after_a_client_left_uvicorn_count_nothing() -> None:
    """A real client sends its request and closes: uvicorn gives the app ``http.disconnect``
    and drops what it sends then; the recording says the same: no status, no bytes out."""
    answered.clear()
    shim, rec = traced(_answers_after_the_disconnect)
    with _uvicorn(shim) as port:
        with socket.create_connection((HOST, port), timeout=10) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            conn.shutdown(socket.SHUT_WR)  # uvicorn sees the client leave
            assert conn.recv(65536) == b""  # and never answers it
        assert answered.wait(10)
        deadline = time.monotonic() + 10
        while not of(rec.events, kind=K.REQUEST_END):
            assert time.monotonic() < deadline, "no request.end"
            time.sleep(0.01)
    end, sends = _end_and_sends(rec)
    assert sends == [("http.response.start", None), ("http.response.body", 4)]
    assert (end.data["status"], end.data["bytes_out"]) == (None, 0)


def test_a_response_started_before_the_disconnect_keeps_its_status() -> None:
    """Start and a first chunk went out, then ``http.disconnect``, then one more chunk: the
    status and the first chunk count, the later chunk does not."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"12345", "more_body": True})
        assert (await receive())["type"] == "http.disconnect"
        await send({"type": "http.response.body", "body": b"678", "more_body": False})

    shim, rec = traced(app)

    async def main() -> None:
        app = ApplicationCommunicator(shim, {"type": "http", "method": "GET", "path": "/"})
        await app.send_input({"type": "http.request", "body": b"", "more_body": False})
        await app.send_input({"type": "http.disconnect"})
        await app.wait(5)

    asyncio.run(main())
    end, sends = _end_and_sends(rec)
    assert [size for _, size in sends] == [None, 5, 3]
    assert (end.data["status"], end.data["bytes_out"]) == (200, 5)


def test_a_send_under_way_when_the_disconnect_came_still_counts() -> None:
    """A disconnect listener task receives ``http.disconnect`` while the last chunk's send is
    still inside the server (hypercorn sends the disconnect as it closes the stream): the
    chunk the server was taking counts; a send begun after it does not."""
    state: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()

        async def listen() -> None:
            assert (await receive())["type"] == "http.disconnect"

        await send({"type": "http.response.start", "status": 200, "headers": []})
        listener = asyncio.create_task(listen())
        await send({"type": "http.response.body", "body": b"last", "more_body": False})
        await listener
        await send({"type": "http.response.body", "body": b"after", "more_body": False})

    async def receive() -> dict[str, Any]:
        if not state.get("read"):
            state["read"] = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await state["closing"].wait()
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        if message["type"] == "http.response.body" and message["body"] == b"last":
            state["closing"].set()  # the stream closes while this send is under way
            for _ in range(5):  # let the listener take the disconnect first
                await asyncio.sleep(0)

    async def main() -> None:
        state["closing"] = asyncio.Event()
        await shim({"type": "http", "method": "GET", "path": "/"}, receive, send)

    shim, rec = traced(app)
    asyncio.run(main())
    events = timeline(rec)
    [disconnect] = [
        e for e in of(events, kind=K.ASGI_RECEIVE) if e.data["type"] == "http.disconnect"
    ]
    [_, last, _] = of(events, kind=K.ASGI_SEND)
    assert last.t <= disconnect.t + disconnect.dur <= last.t + last.dur  # under way at the time
    end, sends = _end_and_sends(rec)
    assert sends == [
        ("http.response.start", None),
        ("http.response.body", 4),
        ("http.response.body", 5),
    ]
    assert (end.data["status"], end.data["bytes_out"]) == (200, 4)


@pytest.mark.parametrize("ends_by", ["disconnect", "close"])
def test_websocket_sends_after_the_session_ended_count_nothing(ends_by: str) -> None:
    """An accepted session, 2 bytes echoed, then the client's ``websocket.disconnect`` (or the
    app's own ``websocket.close``), then 6 more bytes sent: ``WS-003`` flags the late send,
    ``bytes_out`` is 2, the status stays 101."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "hi"})
        if ends_by == "close":
            await send({"type": "websocket.close", "code": 1000})
        else:
            assert (await receive())["type"] == "websocket.disconnect"
        await send({"type": "websocket.send", "bytes": b"unread"})

    shim, rec = traced(app)

    async def main() -> None:
        app = ApplicationCommunicator(shim, {"type": "websocket", "path": "/"})
        await app.send_input({"type": "websocket.connect"})
        if ends_by == "disconnect":
            await app.send_input({"type": "websocket.disconnect", "code": 1001})
        await app.wait(5)

    asyncio.run(main())
    end, sends = _end_and_sends(rec)
    assert ("websocket.send", 6) in sends
    assert "WS-003" in [v.data["rule"] for v in of(rec.events, kind=K.VIOLATION)]
    assert (end.data["status"], end.data["bytes_out"]) == (101, 2)

"""A response cut short: ``request.end`` says ``cut_short: true`` when the response started
and did not all go to the server (the client left a stream, the app returned or raised
mid-body), and says nothing of it when the response went out whole; the summary counts such
requests apart from errors, and the OTLP span carries ``tracer.cut_short`` with its status
unset."""

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
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route
from waitress.server import create_server

import tracer
from tracer import events as K
from tracer.export.otlp import recording_spans
from tracer.recorder import Recorder
from tracer.shim.wsgi import WsgiShim

pytestmark = pytest.mark.timeout(60)

HOST = "127.0.0.1"
CHUNK = b"x" * 1024


def _stream(environ: Any, start_response: Any) -> Iterator[bytes]:
    """A WSGI stream of up to 2,000 chunks of 1 KiB, 5 ms apart."""
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    for _ in range(2000):
        yield CHUNK
        time.sleep(0.005)


def _end(rec: Recorder) -> dict[str, Any]:
    [end] = of(timeline(rec), kind=K.REQUEST_END)
    return dict(end.data)


def _wait_for_end(rec: Recorder) -> None:
    deadline = time.monotonic() + 20
    while not of(list(rec.events), kind=K.REQUEST_END):
        assert time.monotonic() < deadline, "no request.end"
        time.sleep(0.01)


@contextmanager
def _waitress(app: Any) -> Iterator[int]:
    """waitress serving ``app`` on 127.0.0.1 in a thread; yields its port."""
    server: Any = create_server(app, host=HOST, port=0, threads=1)
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        yield int(server.effective_port)
    finally:
        server.close()
        server.task_dispatcher.shutdown()
        thread.join(10)


def _read_then_leave(port: int, path: str = "/") -> bytes:
    """Send a request, read the first bytes of the answer, close the connection."""
    with socket.create_connection((HOST, port), timeout=10) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        first = conn.recv(4096)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    return first


def test_a_wsgi_stream_the_client_left_under_waitress_is_cut_short() -> None:
    """The client reads the first bytes and leaves; waitress fails a later write and closes
    the iterable before its end: ``cut_short``, the status the app gave, ``bytes_out`` the
    chunks handed to the server (what reached the client is the client's to say)."""
    rec = Recorder()
    with _waitress(WsgiShim(_stream, recorder=rec)) as port:
        assert _read_then_leave(port).startswith(b"HTTP/1.1 200 OK")
        _wait_for_end(rec)
    events = timeline(rec)
    end = _end(rec)
    handed = sum(e.data["bytes"] for e in of(events, kind=K.WSGI_BODY))
    assert end["cut_short"] is True
    assert (end["status"], end["error"], end["close_called"]) == (200, None, True)
    assert end["bytes_out"] == handed < 2000 * len(CHUNK)
    assert [e.kind for e in events][-2:] == [K.WSGI_CLOSE, K.REQUEST_END]
    summary = tracer.summarize(events)
    assert (summary["errors"], summary["cut_short"], summary["status"]) == (0, 1, {"200": 1})


def test_a_wsgi_response_that_went_out_whole_is_not_cut_short() -> None:
    """A list and a short generator, both run to their end by waitress: no ``cut_short``."""

    def short(environ: Any, start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Length", "4")])
        yield b"ab"
        yield b"cd"

    def listed(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    for app in (short, listed):
        rec = Recorder()
        with _waitress(WsgiShim(app, recorder=rec)) as port:
            with socket.create_connection((HOST, port), timeout=10) as conn:
                conn.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
                while conn.recv(65536):
                    pass
            _wait_for_end(rec)
        assert "cut_short" not in _end(rec)
        assert "cut_short" not in tracer.summarize(rec)


def _serve_by_hand(app: Any, chunks: int | None) -> Recorder:
    """Drive ``app`` as a WSGI server does: call it, take ``chunks`` chunks (all when None),
    then ``close()`` what it returned."""
    rec = Recorder()
    shim = WsgiShim(app, recorder=rec)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.input": None}
    body = shim(environ, lambda status, headers, exc_info=None: None)
    try:
        iterator = iter(body)
        taken = 0
        while chunks is None or taken < chunks:
            try:
                next(iterator)
            except StopIteration:
                break
            taken += 1
    except ValueError:  # the app's error: a server logs it and closes the response
        pass
    finally:
        body.close()
    return rec


@pytest.mark.parametrize(
    ("app_name", "chunks", "expected"),
    [
        ("stream", 2, (200, None, True)),  # closed before its end: the server gave up
        ("stream", None, (200, None, None)),  # run to its end
        ("raises_mid_body", None, (200, "ValueError", True)),  # the headers went: cut
        ("raises_first", None, (500, "ValueError", None)),  # the server's own 500, whole
    ],
)
def test_which_wsgi_ends_are_cut_short(
    app_name: str, chunks: int | None, expected: tuple[Any, ...]
) -> None:
    """(status, error, cut_short) of request.end for each way a response can end."""

    def stream(environ: Any, start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"a"
        yield b"b"
        yield b"c"

    def raises_mid_body(environ: Any, start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"a"
        raise ValueError("mid-body")

    def raises_first(environ: Any, start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [])
        raise ValueError("before any chunk")
        yield b""  # pragma: no cover - makes it a generator

    apps = {"stream": stream, "raises_mid_body": raises_mid_body, "raises_first": raises_first}
    end = _end(_serve_by_hand(apps[app_name], chunks))
    assert (end["status"], end["error"], end.get("cut_short")) == expected


def _sse_app() -> Any:
    async def events(request: Any) -> StreamingResponse:
        async def gen() -> Any:
            for i in range(2000):
                yield f"data: {i}\n\n"
                await asyncio.sleep(0.005)

        return StreamingResponse(gen(), media_type="text/event-stream")

    return Starlette(routes=[Route("/sse", events)])


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


def test_an_sse_stream_the_client_left_under_uvicorn_is_cut_short() -> None:
    """Starlette's StreamingResponse hears ``http.disconnect`` and stops: no last body message
    was sent, so the 200 is ``cut_short``, with no error; the summary counts it apart from
    errors, and its OTLP span carries ``tracer.cut_short`` with its status unset."""
    shim, rec = traced(_sse_app())
    with _uvicorn(shim) as port:
        assert _read_then_leave(port, "/sse").startswith(b"HTTP/1.1 200 OK")
        _wait_for_end(rec)
    events = timeline(rec)
    received = [e.data["type"] for e in of(events, kind=K.ASGI_RECEIVE) if "type" in e.data]
    assert "http.disconnect" in received
    last = [e.data for e in of(events, kind=K.ASGI_SEND)][-1]
    assert last["more_body"] is True  # the stream's end was never sent
    end = _end(rec)
    assert (end["status"], end["error"], end["cut_short"], end["route"]) == (
        200,
        None,
        True,
        "/sse",
    )
    summary = tracer.summarize(events)
    assert (summary["errors"], summary["cut_short"]) == (0, 1)

    [span] = [s for s in recording_spans(rec.recording()) if "/sse" in s.name]
    assert span.attributes["tracer.cut_short"] is True
    assert "error.type" not in span.attributes
    assert span.status.is_unset


def _communicate(app: Any, *inputs: dict[str, Any]) -> Recorder:
    shim, rec = traced(app)

    async def main() -> None:
        talk = ApplicationCommunicator(shim, {"type": "http", "method": "GET", "path": "/"})
        for message in inputs:
            await talk.send_input(message)
        try:
            await talk.wait(5)
        except ValueError:  # the app's error, re-raised by the communicator
            pass

    asyncio.run(main())
    return rec


REQUEST = {"type": "http.request", "body": b"", "more_body": False}


async def _whole(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"a", "more_body": True})
    await send({"type": "http.response.body", "body": b"b"})


async def _returns_mid_body(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"a", "more_body": True})


async def _ends_after_the_disconnect(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"a", "more_body": True})
    assert (await receive())["type"] == "http.disconnect"
    await send({"type": "http.response.body", "body": b"b"})  # reaches nobody


async def _raises_before_the_start(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    raise ValueError("no response")


@pytest.mark.parametrize(
    ("app", "inputs", "expected"),
    [
        (_whole, [REQUEST], (200, None, None)),
        (_returns_mid_body, [REQUEST], (200, None, True)),
        (_ends_after_the_disconnect, [REQUEST, {"type": "http.disconnect"}], (200, None, True)),
        (_raises_before_the_start, [REQUEST], (500, "ValueError", None)),
    ],
)
def test_which_asgi_ends_are_cut_short(
    app: Any, inputs: list[dict[str, Any]], expected: tuple[Any, ...]
) -> None:
    """(status, error, cut_short): a last body message taken while the peer was there ends
    the response; returning without it, or sending it after the disconnect, does not; the
    server's own 500 for an app that never started a response is whole."""
    end = _end(_communicate(app, *inputs))
    assert (end["status"], end["error"], end.get("cut_short")) == expected

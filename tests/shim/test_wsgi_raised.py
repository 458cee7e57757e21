"""A ``wsgi.input`` read or a ``write()`` that raises is recorded with ``raised`` and its time,
and its exception reaches the app unchanged."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from werkzeug.serving import make_server as werkzeug_server

from tracer import events as K
from tracer.recorder import Recorder
from tracer.shim.wsgi import WsgiShim


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def of(rec: Recorder, kind: str) -> list[dict[str, Any]]:
    return [e.data for e in rec.events if e.kind == kind]


def exchange(server: Any, port: int, raw: bytes, *, hang_up: bool = False) -> bytes:
    """Serve one connection: send ``raw``; read the answer, or hang up at once."""
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(raw)
            if hang_up:
                sock.shutdown(socket.SHUT_WR)
                return b""
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
            return b"".join(chunks)
    finally:
        thread.join(10)
        server.server_close()


def test_a_read_that_raises_on_a_bad_chunk_is_recorded_and_reaches_the_app() -> None:
    """Werkzeug's server raises OSError for a chunk header that is no number, and for a
    chunked body cut short: each read is one ``wsgi.input.read`` with ``raised``, 0 bytes,
    and the app catches the very exception."""
    caught: list[BaseException] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        try:
            environ["wsgi.input"].read()
        except OSError as exc:
            caught.append(exc)
        start_response("400 Bad Request", [("Content-Length", "0")])
        return [b""]

    for body, hang_up in ((b"zz\r\nab\r\n0\r\n\r\n", False), (b"4\r\nab", True)):
        rec = Recorder()
        server = werkzeug_server("127.0.0.1", 0, WsgiShim(app, recorder=rec))
        raw = b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        raw += b"Transfer-Encoding: chunked\r\n\r\n" + body
        answer = exchange(server, server.server_port, raw, hang_up=hang_up)
        assert hang_up or answer.startswith(b"HTTP/1.0 400 ")
        reads = [e for e in rec.events if e.kind == K.WSGI_INPUT_READ]
        assert [r.data for r in reads] == [{"method": "read", "bytes": 0, "raised": "OSError"}]
        assert isinstance(reads[0].dur, int) and reads[0].dur >= 0
        assert type(caught.pop()).__name__ == "OSError"
        assert [d["bytes_in"] for d in of(rec, K.REQUEST_END)] == [0]
        assert of(rec, K.ERROR) == []  # caught by the app: no error of its own


def test_a_write_the_server_refuses_is_recorded_and_counts_no_bytes() -> None:
    """wsgiref's ``write()`` refuses a str with AssertionError: one ``wsgi.write`` with
    ``raised``, not counted in ``bytes_out``; the app's next write goes through."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            write("text")
        except AssertionError:
            write(b"bytes")
        return []

    rec = Recorder()
    server = make_server("127.0.0.1", 0, WsgiShim(app, recorder=rec), handler_class=_Quiet)
    answer = exchange(server, server.server_port, b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
    assert answer.endswith(b"\r\n\r\nbytes")
    assert of(rec, K.WSGI_WRITE) == [{"bytes": 0, "raised": "AssertionError"}, {"bytes": 5}]
    assert [(d["status"], d["bytes_out"]) for d in of(rec, K.REQUEST_END)] == [(200, 5)]


def test_a_write_to_a_client_that_left_is_recorded_and_ends_the_request() -> None:
    """The client resets the connection before the app writes: the write that fails is a
    ``wsgi.write`` with ``raised``, right before the end, which names it as its ``error`` and
    is cut short; no app ``error`` (the client went, the app did nothing wrong); the writes
    before it count in ``bytes_out``."""
    gone = threading.Event()
    chunk = b"x" * 65536

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        gone.wait(10)
        for _ in range(200):  # the reset is seen at the first or a following write
            write(chunk)
        return []

    rec = Recorder()
    server = make_server("127.0.0.1", 0, WsgiShim(app, recorder=rec), handler_class=_Quiet)
    server.handle_error = lambda request, address: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    try:
        sock = socket.create_connection(("127.0.0.1", server.server_port), timeout=10)
        sock.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # a reset: the server's next send fails
        gone.set()
    finally:
        thread.join(10)
        server.server_close()
    writes = of(rec, K.WSGI_WRITE)
    assert writes and all("raised" not in w for w in writes[:-1])
    assert of(rec, K.ERROR) == []  # the client went: the end says so, no app error
    (end,) = of(rec, K.REQUEST_END)
    assert writes[-1] == {"bytes": 65536, "raised": end["error"]}
    assert end["error"] in {"BrokenPipeError", "ConnectionResetError"}
    assert end["cut_short"] is True
    kinds = [e.kind for e in sorted(rec.events, key=lambda e: (e.t, e.seq))]
    assert kinds[-2:] == [K.WSGI_WRITE, K.REQUEST_END]
    assert end["bytes_out"] == 65536 * (len(writes) - 1)

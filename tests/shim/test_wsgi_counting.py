"""What ``request.end`` counts: bytes the server can send, and a status it can read."""

from __future__ import annotations

import socket
import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from waitress.server import create_server

from tracer import events as K
from tracer.recorder import Recorder
from tracer.shim.wsgi import WsgiShim


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def wsgiref_get(app: Any) -> bytes:
    """One ``GET /`` to ``app`` behind wsgiref's real server on 127.0.0.1; the raw answer."""
    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    finally:
        thread.join(10)
        server.server_close()
    return b"".join(chunks)


def waitress_get(app: Any) -> bytes:
    """One ``GET /`` to ``app`` behind waitress on 127.0.0.1 (which takes any status that
    ``int()`` reads); the raw answer."""
    server: Any = create_server(app, host="127.0.0.1", port=0, threads=1)
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", server.effective_port), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    finally:
        server.close()
        server.task_dispatcher.shutdown()
        thread.join(10)
    return b"".join(chunks)


def end_of(rec: Recorder) -> dict[str, Any]:
    (end,) = [e for e in rec.events if e.kind == K.REQUEST_END]
    return end.data


def test_a_str_chunk_counts_no_bytes() -> None:
    """``["text"]`` is no body a server sends (wsgiref answers 500): ``wsgi.body`` and
    ``request.end`` count 0 bytes for it, and bytes chunks still count."""
    rec = Recorder()

    def app(environ: dict[str, Any], start_response: Any) -> list[Any]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return ["text"]

    answer = wsgiref_get(WsgiShim(app, recorder=rec))
    assert answer.startswith(b"HTTP/1.0 500 ") and not answer.endswith(b"\r\n\r\ntext")
    assert [e.data["bytes"] for e in rec.events if e.kind == K.WSGI_BODY] == [0]
    assert end_of(rec)["bytes_out"] == 0
    assert any(e.kind == K.VIOLATION and e.data["rule"] == "WSGI-014" for e in rec.events), (
        "the checker still reports the str chunk"
    )

    rec = Recorder()

    def mixed(environ: dict[str, Any], start_response: Any) -> list[Any]:
        start_response("200 OK", [])
        return [b"ab", bytearray(b"cde"), memoryview(b"fghi")]

    body = WsgiShim(mixed, recorder=rec)({}, lambda *args: None)
    assert list(body) == [b"ab", bytearray(b"cde"), memoryview(b"fghi")]
    body.close()
    assert end_of(rec)["bytes_out"] == 9


def test_a_malformed_status_line_records_no_status() -> None:
    """Waitress sends ``" 20 OK"`` as it is (``HTTP/1.0  20 OK``): that is no status, although
    ``int(" 20")`` reads 20; ``request.end`` says null and WSGI-005 is still flagged. A
    well-formed line keeps its code."""
    for status, expected in ((" 20 OK", None), ("20 OK", None), ("201 Made", 201)):
        rec = Recorder()

        def app(environ: dict[str, Any], start_response: Any, status: str = status) -> list[bytes]:
            start_response(status, [("Content-Length", "2")])
            return [b"hi"]

        answer = waitress_get(WsgiShim(app, recorder=rec))
        assert answer.startswith(f"HTTP/1.0 {status}\r\n".encode()), answer
        assert end_of(rec)["status"] == expected, status
        rules = [e.data["rule"] for e in rec.events if e.kind == K.VIOLATION]
        assert ("WSGI-005" in rules) == (expected is None), status

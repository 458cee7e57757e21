"""What ``request.start`` says of the environ: headers the client sent, and its endpoint."""

from __future__ import annotations

import socket
import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from werkzeug.middleware.proxy_fix import ProxyFix

from tracer import events as K
from tracer.recorder import Recorder
from tracer.shim.wsgi import WsgiShim


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def wsgiref_exchange(app: Any, requests: list[bytes]) -> list[bytes]:
    """Send each raw request to ``app`` behind wsgiref's real server on 127.0.0.1, one
    connection each; the raw responses."""
    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=lambda: [server.handle_request() for _ in requests])
    thread.start()
    answers = []
    try:
        for raw in requests:
            with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as sock:
                sock.sendall(raw)
                chunks = []
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
                answers.append(b"".join(chunks))
    finally:
        thread.join(10)
        server.server_close()
    return answers


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hi"]


def test_wsgiref_defaults_are_not_recorded_as_headers_the_client_never_sent() -> None:
    """wsgiref sets ``CONTENT_LENGTH=""`` on every request: a GET without a body records only
    the headers sent; a POST records its Content-Length and Content-Type as sent."""
    rec = Recorder()
    answers = wsgiref_exchange(
        WsgiShim(hello, recorder=rec),
        [
            b"GET / HTTP/1.0\r\nHost: x\r\nX-One: 1\r\n\r\n",
            b"POST / HTTP/1.0\r\nHost: x\r\nContent-Length: 2\r\n"
            b"Content-Type: application/json\r\n\r\n{}",
        ],
    )
    assert all(answer.endswith(b"\r\n\r\nhi") for answer in answers)
    get, post = [e.data["headers"] for e in rec.events if e.kind == K.REQUEST_START]
    names = [name for name, _ in get]
    assert "content-length" not in names
    assert ["x-one", "1"] in get and ["host", "x"] in get
    assert ["content-length", "2"] in post and ["content-type", "application/json"] in post


def environ(**extra: Any) -> dict[str, Any]:
    base = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/env",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "43174",
        "wsgi.url_scheme": "http",
    }
    base.update(extra)
    return base


def run_once(app: Any, env: dict[str, Any]) -> None:
    body = app(env, lambda status, headers, exc_info=None: None)
    list(body)
    body.close()


def test_behind_proxyfix_the_forwarded_address_is_not_paired_with_the_proxy_port() -> None:
    """Werkzeug's ProxyFix replaces REMOTE_ADDR with the forwarded client but keeps the
    proxy hop's REMOTE_PORT: ``client`` is the forwarded address alone. Without a forwarded
    address (the same middleware, nothing rewritten) it keeps the port."""
    rec = Recorder()
    app = ProxyFix(WsgiShim(hello, recorder=rec), x_for=1, x_proto=1)
    run_once(app, environ(HTTP_X_FORWARDED_FOR="10.9.8.7", HTTP_X_FORWARDED_PROTO="https"))
    run_once(app, environ())
    first, second = [e.data for e in rec.events if e.kind == K.REQUEST_START]
    assert (first["client"], first["scheme"]) == ("10.9.8.7", "https")
    assert (second["client"], second["scheme"]) == ("127.0.0.1:43174", "http")

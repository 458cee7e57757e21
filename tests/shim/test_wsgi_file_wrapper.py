"""A ``wsgi.file_wrapper`` response: handed to the server as its own, so it still sends the file
its own way, and recorded until the server closes it, with the bytes it sends."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from waitress.server import create_server

import tracer
from tracer import events as K
from tracer.recorder import Recorder
from tracer.shim.wsgi import WsgiShim

SIZE = 200_000


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def get(port: int) -> bytes:
    """One ``GET /`` on a fresh connection to 127.0.0.1; the raw answer up to the close."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def data_file(tmp_path: Path) -> tuple[Path, bytes]:
    content = bytes(range(256)) * (SIZE // 256) + b"x" * (SIZE % 256)
    path = tmp_path / "data.bin"
    path.write_bytes(content)
    return path, content


def flow(rec: Recorder) -> list[str]:
    return [e.kind for e in rec.events if e.kind != K.SCHED_THREAD]


def test_wsgiref_request_lasts_until_the_server_closes_the_file(tmp_path: Path) -> None:
    """wsgiref sends the file after the app returned: the request ends at the server's close
    (``wsgi.close``, ``close_called: true``), its thread segment covers the sending, and
    ``bytes_out`` is the file from the position the app left it at (no Content-Length)."""
    path, content = data_file(tmp_path)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        file = open(path, "rb")  # noqa: SIM115 - the server closes it, through the wrapper
        file.seek(1000)
        return environ["wsgi.file_wrapper"](file, 8192)

    rec = Recorder()
    server = make_server("127.0.0.1", 0, WsgiShim(app, recorder=rec), handler_class=_Quiet)
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    try:
        answer = get(server.server_port)
    finally:
        thread.join(10)
        server.server_close()
    assert answer.endswith(b"\r\n\r\n" + content[1000:])
    assert flow(rec) == [K.REQUEST_START, K.WSGI_START_RESPONSE, K.WSGI_CLOSE, K.REQUEST_END]
    (end,) = [e for e in rec.events if e.kind == K.REQUEST_END]
    assert end.data == {
        "status": 200,
        "bytes_in": 0,
        "bytes_out": SIZE - 1000,
        "error": None,
        "close_called": True,
        "file_wrapper": True,
    }
    (segment,) = [e for e in rec.events if e.kind == K.SCHED_THREAD]
    (close,) = [e for e in rec.events if e.kind == K.WSGI_CLOSE]
    assert segment.t + segment.dur >= close.t + close.dur  # the sending is the worker's time


def test_waitress_still_sends_its_own_buffer_and_the_declared_length_counts(
    tmp_path: Path,
) -> None:
    """Waitress recognises its wrapper by ``__class__ is`` and sends the declared 5000 bytes
    of the file itself; the request ends at its close, with those 5000 bytes."""
    path, content = data_file(tmp_path)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Length", "5000")])
        return environ["wsgi.file_wrapper"](open(path, "rb"))  # noqa: SIM115

    rec = Recorder()
    server: Any = create_server(WsgiShim(app, recorder=rec), host="127.0.0.1", port=0, threads=1)
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        answer = get(server.effective_port)
    finally:
        server.close()
        server.task_dispatcher.shutdown()
        thread.join(10)
    assert answer.endswith(b"\r\n\r\n" + content[:5000])
    assert flow(rec) == [K.REQUEST_START, K.WSGI_START_RESPONSE, K.WSGI_CLOSE, K.REQUEST_END]
    (end,) = [e for e in rec.events if e.kind == K.REQUEST_END]
    assert (end.data["bytes_out"], end.data["close_called"]) == (5000, True)


def test_a_wrapper_the_server_drops_unclosed_still_ends_the_request() -> None:
    """A server that never calls close: the request ends when the wrapper is freed,
    ``close_called: false``, with the declared length."""
    import io
    import wsgiref.util

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Length", "3")])
        return environ["wsgi.file_wrapper"](io.BytesIO(b"abc"))

    rec = Recorder()
    environ = {"REQUEST_METHOD": "GET", "wsgi.file_wrapper": wsgiref.util.FileWrapper}
    body = WsgiShim(app, recorder=rec)(environ, lambda *args: None)
    assert b"".join(body) == b"abc"
    assert [e for e in rec.events if e.kind == K.REQUEST_END] == []
    del body
    (end,) = [e for e in rec.events if e.kind == K.REQUEST_END]
    assert (end.data["close_called"], end.data["bytes_out"]) == (False, 3)


NO_READ_APP = """
import io, os

HERE = os.path.dirname(os.path.abspath(__file__))


class NoRead(io.FileIO):
    # Refuses to be read in Python: only the kernel (sendfile) can send it.
    def read(self, *args):
        raise RuntimeError("read in Python")

    readinto = read


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return environ["wsgi.file_wrapper"](NoRead(os.path.join(HERE, "data.bin")), 1 << 16)
"""


def test_gunicorn_still_uses_sendfile(tmp_path: Path) -> None:
    """Under gunicorn (sync), the wrapper keeps its class and its ``filelike``, so gunicorn
    sends the file with sendfile: a file that refuses Python reads arrives whole. The request
    lasts until gunicorn's close and counts the file's bytes."""
    _, content = data_file(tmp_path)
    (tmp_path / "noread.py").write_text(textwrap.dedent(NO_READ_APP))
    record = tmp_path / "run.jsonl"
    command = [sys.executable, "-m", "tracer", "run", "noread:app", "--app-dir", str(tmp_path)]
    command += ["--server", "gunicorn", "--workers", "1", "-c", "1", "-n", "2", "--headless"]
    command += ["--record", str(record)]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=60, env={**os.environ, "TERM": "dumb"}
    )
    assert done.returncode == 0, done.stderr
    events = tracer.load(str(record)).events
    answers = [e.data for e in events if e.kind == K.CLIENT_RESPONSE]
    assert [(a["status"], a["bytes"]) for a in answers] == [(200, len(content))] * 2
    ends = [e.data for e in events if e.kind == K.REQUEST_END]
    assert [(d["bytes_out"], d["close_called"], d["file_wrapper"]) for d in ends] == [
        (len(content), True, True)
    ] * 2
    assert not [e for e in events if e.kind == K.ERROR]

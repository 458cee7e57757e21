"""Calls the app makes inside a step of its response iterable sort before that step's chunk."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import tracer
from tracer import events as K
from tracer.recorder import Recorder
from tracer.shim.wsgi import WsgiShim


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def served_and_loaded(app: Any, raw: bytes, path: Path) -> tuple[bytes, list[Any]]:
    """``app`` behind wsgiref's real server on 127.0.0.1 for one raw request; the answer and
    the recording's events as ``tracer.load`` gives them (sorted by ``(t, seq)``)."""
    rec = Recorder()
    server = make_server("127.0.0.1", 0, WsgiShim(app, recorder=rec), handler_class=_Quiet)
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as sock:
            sock.sendall(raw)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    finally:
        thread.join(10)
        server.server_close()
    rec.save(str(path))
    return b"".join(chunks), tracer.load(str(path)).events


def lazy(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    """Reads and starts the response inside its first step, writes inside its second."""
    body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"partial:" + body
    write(b"+written")
    yield b"+last"


def test_start_response_read_and_write_inside_a_step_sort_before_its_chunk(tmp_path: Path) -> None:
    """Sorted as readers sort, the events come as they happened: the read and start_response
    of the first step, then its chunk; the write of the second step, then its chunk. Each
    chunk's span starts after the step's last call and ends when the chunk was produced."""
    raw = b"POST / HTTP/1.0\r\nHost: x\r\nContent-Length: 2\r\n\r\nab"
    answer, events = served_and_loaded(lazy, raw, tmp_path / "lazy.jsonl")
    assert answer.endswith(b"\r\n\r\npartial:ab+written+last")
    flow = [e for e in events if e.kind != K.SCHED_THREAD and e.kind != K.VIOLATION]
    assert [e.kind for e in flow] == [
        K.REQUEST_START,
        K.WSGI_INPUT_READ,
        K.WSGI_START_RESPONSE,
        K.WSGI_BODY,
        K.WSGI_WRITE,
        K.WSGI_BODY,
        K.WSGI_CLOSE,
        K.REQUEST_END,
    ]
    read, started, first, write, second = flow[1:6]
    assert [first.data["bytes"], write.data["bytes"], second.data["bytes"]] == [10, 8, 5]
    assert read.t + read.dur <= started.t <= first.t
    assert write.t + write.dur <= second.t
    for chunk in (first, second):
        assert chunk.dur >= 0


def test_a_violation_inside_a_step_sorts_before_its_chunk(tmp_path: Path) -> None:
    """A rule broken by a call inside the step (a second start_response without exc_info:
    WSGI-002) is recorded before the step's chunk, after the call that broke it."""

    def twice(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            start_response("201 Created", [("Content-Type", "text/plain")])
        except AssertionError:  # wsgiref refuses it
            pass
        yield b"one"

    answer, events = served_and_loaded(twice, b"GET / HTTP/1.0\r\n\r\n", tmp_path / "two.jsonl")
    assert answer.startswith(b"HTTP/1.0 200 ")
    kinds = [e.kind for e in events if e.kind != K.SCHED_THREAD]
    assert kinds == [
        K.REQUEST_START,
        K.WSGI_START_RESPONSE,
        K.WSGI_START_RESPONSE,
        K.VIOLATION,
        K.WSGI_BODY,
        K.WSGI_CLOSE,
        K.REQUEST_END,
    ]

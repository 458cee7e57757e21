"""The digest (the live dashboard's and the headless report's summary) says what
``tracer.summarize`` says of responses cut short and of failed lifespans, however its events
come in batches; the report prints both, a lifespan's message escaped as recorded strings are.

Recordings from real servers on 127.0.0.1 (waitress and uvicorn, each in a thread of this
process), the app traced by the shim."""

from __future__ import annotations

import io
import os
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from rich.console import Console
from waitress.server import create_server

import tracer
from tracer import events as K
from tracer.digest import Digest
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.report import print_report
from tracer.request_span import RequestSpan
from tracer.shim.asgi import AsgiShim
from tracer.shim.wsgi import WsgiShim
from tracer.span_rows import SpanRows

pytestmark = pytest.mark.timeout(60)

HOST = "127.0.0.1"
CHUNK = b"x" * 1024
STARTUP_MESSAGE = "db unreachable: connection refused"
SHUTDOWN_MESSAGE = "flush failed: \x1b[31mdisk full"
"""What the app says of its failed shutdown, with an escape sequence the report must not
obey."""


def _stream(environ: Any, start_response: Any) -> Iterator[bytes]:
    """A WSGI stream of up to 2,000 chunks of 1 KiB, 5 ms apart; ``/short``: one chunk."""
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    if environ["PATH_INFO"] == "/short":
        yield CHUNK
        return
    for _ in range(2000):
        yield CHUNK
        time.sleep(0.005)


def _ends(rec: Recorder) -> list[Event]:
    return [e for e in rec.recording().events if e.kind == K.REQUEST_END]


def _wait_for_ends(rec: Recorder, count: int) -> None:
    deadline = time.monotonic() + 20
    while len(_ends(rec)) < count:
        assert time.monotonic() < deadline, "request.end missing"
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


def _read_then_leave(port: int, path: str) -> bytes:
    """Send a request, read the first bytes of the answer, reset the connection."""
    with socket.create_connection((HOST, port), timeout=10) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        first = conn.recv(4096)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    return first


def _read_whole(port: int, path: str) -> bytes:
    with socket.create_connection((HOST, port), timeout=10) as conn:
        conn.sendall(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        got = b""
        while chunk := conn.recv(65536):
            got += chunk
    return got


def _cut_short_recording() -> Recorder:
    """Under waitress: one stream the client left (cut short), one short response whole."""
    rec = Recorder()
    with _waitress(WsgiShim(_stream, recorder=rec)) as port:
        assert _read_then_leave(port, "/long").startswith(b"HTTP/1.1 200 OK")
        _wait_for_ends(rec, 1)
        assert _read_whole(port, "/short").endswith(CHUNK)
        _wait_for_ends(rec, 2)
    return rec


def _lifespan_app(startup: str | None, shutdown: str | None) -> Any:
    """An ASGI app answering ``/`` with ``ok``, whose lifespan startup fails with
    ``startup`` (when given), else whose shutdown fails with ``shutdown`` (when given)."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            assert (await receive())["type"] == "lifespan.startup"
            if startup is not None:
                await send({"type": "lifespan.startup.failed", "message": startup})
                return
            await send({"type": "lifespan.startup.complete"})
            assert (await receive())["type"] == "lifespan.shutdown"
            if shutdown is not None:
                await send({"type": "lifespan.shutdown.failed", "message": shutdown})
                return
            await send({"type": "lifespan.shutdown.complete"})
            return
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _uvicorn_run(app: Any, rec: Recorder, *, serve: bool) -> None:
    """Real uvicorn (lifespan on) serving ``app`` traced into ``rec``, in a thread, until it
    stops: at once when its startup fails, else after one request to ``/`` (``serve``)."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(
        AsgiShim(app, recorder=rec), host=HOST, port=port, log_level="critical", lifespan="on"
    )
    server = uvicorn.Server(config)

    def run() -> None:
        try:
            server.run()
        except SystemExit:  # uvicorn's exit when the app's startup failed
            pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        if serve:
            deadline = time.monotonic() + 10
            while not server.started:
                assert time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.01)
            with urllib.request.urlopen(f"http://{HOST}:{port}/", timeout=10) as answer:
                assert answer.read() == b"ok"
    finally:
        server.should_exit = True
        thread.join(10)
    assert not thread.is_alive()


def _lifespan_recording() -> Recorder:
    """Two uvicorn servers recorded into one recorder: the first's app fails its startup, the
    second's serves a request and fails its shutdown."""
    rec = Recorder()
    _uvicorn_run(_lifespan_app(STARTUP_MESSAGE, None), rec, serve=False)
    _uvicorn_run(_lifespan_app(None, SHUTDOWN_MESSAGE), rec, serve=True)
    return rec


def _digested(events: list[Event], batch: int, *, backwards: bool = False) -> Digest:
    """A ``Digest`` fed ``events`` in batches of ``batch`` (the batches in reverse order when
    ``backwards``: the digest takes its events in any order)."""
    batches = [events[i : i + batch] for i in range(0, len(events), batch)]
    digest = Digest()
    for part in reversed(batches) if backwards else batches:
        digest.feed(part)
    return digest


@pytest.mark.parametrize(("batch", "backwards"), [(4096, False), (1, False), (1, True)])
def test_the_digest_counts_a_response_cut_short_as_the_summary_does(
    batch: int, backwards: bool
) -> None:
    """The stream the client left is cut short, in the digest's summary too: its record,
    packed into a row once it ended, keeps it."""
    events = _cut_short_recording().recording().events
    assert [e.data.get("cut_short") for e in events if e.kind == K.REQUEST_END] == [True, None]
    expected = tracer.summarize(events)
    assert (expected["errors"], expected["cut_short"]) == (0, 1)
    digest = _digested(events, batch, backwards=backwards)
    assert digest.summary() == expected
    assert [span.cut_short for span in digest.requests().values()] == [True, False]


@pytest.mark.parametrize(("batch", "backwards"), [(4096, False), (1, False), (1, True)])
def test_the_digest_lists_failed_lifespans_as_the_summary_does(batch: int, backwards: bool) -> None:
    """Each failed lifespan, with the app's message and its process, in recording order
    whatever order the digest took the events in."""
    events = _lifespan_recording().recording().events
    expected = tracer.summarize(events)
    pid = events[0].pid
    assert expected["lifespan_failed"] == [
        {"phase": "startup", "message": STARTUP_MESSAGE, "pid": pid},
        {"phase": "shutdown", "message": SHUTDOWN_MESSAGE, "pid": pid},
    ]
    assert expected["requests"] == 1 and expected["errors"] == 0
    assert _digested(events, batch, backwards=backwards).summary() == expected


def _report(rec: Recorder) -> str:
    recording = rec.recording()
    digest = Digest()
    digest.feed(recording.events)
    console = Console(file=io.StringIO(), record=True, width=200, color_system=None)
    print_report(recording, digest.summary(), console=console, details=digest.details())
    return console.export_text()


def _rows(text: str) -> list[str]:
    """The report's lines, their indent left off."""
    return [line.strip() for line in text.splitlines()]


def test_the_report_says_a_response_was_cut_short_not_an_error() -> None:
    """One line after the errors' (which stay at 0)."""
    lines = _rows(_report(_cut_short_recording()))
    [errors] = [line for line in lines if line.startswith("errors")]
    assert errors.split() == ["errors", "0", "(0", "timeouts)"]
    [cut] = [line for line in lines if line.startswith("cut short")]
    assert cut.split(None, 2)[2] == "1 (started, not all sent: the client left; no error)"
    assert lines.index(cut) == lines.index(errors) + 1


def test_the_report_says_each_failed_lifespan_with_the_apps_message_escaped() -> None:
    """A line a failure, in recording order; the escape sequence in the app's message shown
    as ``\\x1b``, never written to the terminal."""
    text = _report(_lifespan_recording())
    assert "\x1b" not in text
    pid = os.getpid()  # uvicorn ran in this process
    lifespan = [line.split(None, 1)[1] for line in _rows(text) if line.startswith("lifespan")]
    assert lifespan == [
        f"startup failed (pid {pid}): {STARTUP_MESSAGE}",
        f"shutdown failed (pid {pid}): flush failed: \\x1b[31mdisk full",
    ]


@pytest.mark.parametrize(
    ("cut_short", "client_closed"),
    [(False, None), (True, None), (True, "read-for"), (False, "read-bytes")],
)
def test_a_packed_row_keeps_cut_short_and_why_the_client_closed(
    cut_short: bool, client_closed: str | None
) -> None:
    """The row's flags give back both; a reason the format does not name keeps its record
    unpacked, so it reads back as itself."""
    rows = SpanRows()
    span = RequestSpan(7)
    span.start, span.end, span.status = 10, 20, 200
    span.cut_short, span.client_closed = cut_short, client_closed
    assert rows.put(7, span, 0)
    back = rows.get(7)
    assert back is not None
    assert (back.cut_short, back.client_closed, back.status) == (cut_short, client_closed, 200)
    span.client_closed = "some-later-reason"
    assert not rows.put(8, span, 1)
    assert rows.get(8) is None

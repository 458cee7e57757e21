"""WebSocket sessions: handshake with the request id, N messages each answered, clean close."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from client_servers import HOST, raw_app, seen, serve_uvicorn

from tracer import events as K
from tracer.client import ClientConfig, run_client
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)


def test_sessions_exchange_every_message() -> None:
    """3 sessions x 4 messages against uvicorn: status 101, 4 replies each, ids on the handshake."""
    seen.clear()
    recorder = Recorder()
    with serve_uvicorn(raw_app) as port:
        stats = run_client(
            HOST, port,
            ClientConfig(concurrency=2, requests=3, ws_messages=4, paths=("/ws",)),
            recorder=recorder,
        )  # fmt: skip
    assert (stats.completed, stats.errors) == (3, 0)
    assert stats.status == {101: 3}
    responses = [e for e in recorder.events if e.kind == K.CLIENT_RESPONSE]
    assert [e.data["messages"] for e in responses] == [4, 4, 4]
    assert all(e.data["bytes"] == len("message 1") * 4 for e in responses)
    assert sorted(int(s["req"]) for s in seen) == sorted(e.req for e in responses)


def test_rejected_handshake_is_a_response_not_an_error() -> None:
    """An app that closes before accepting: the server answers 403, the session ends with it."""
    with serve_uvicorn(raw_app) as port:
        stats = run_client(HOST, port, ClientConfig(concurrency=1, requests=2, ws_messages=1))
    assert stats.errors == 0
    assert stats.status == {403: 2}


class _Plain(socketserver.StreamRequestHandler):
    """A server that does not speak WebSocket: it answers the upgrade with a plain 200 ``ok``."""

    def handle(self) -> None:
        while self.rfile.readline() not in (b"\r\n", b""):
            pass  # the upgrade request's head
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")


@contextmanager
def _serve_plain() -> Iterator[int]:
    """``_Plain`` on 127.0.0.1 in a thread; yields its port."""
    with socketserver.ThreadingTCPServer((HOST, 0), _Plain) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server.server_address[1]
        finally:
            server.shutdown()


def test_an_upgrade_answered_as_a_plain_request_is_a_failed_session() -> None:
    """A server that answers the handshake with a plain 200 (it does not speak WebSocket
    there): the session is recorded with that status and error UpgradeIgnored, and the
    summary and the client's stats count it as an error (the stats counted it completed)."""
    import tracer
    from tracer.client.websocket import UPGRADE_IGNORED

    recorder = Recorder()
    with _serve_plain() as port:
        config = ClientConfig(concurrency=1, requests=2, ws_messages=1, paths=("/ws",))
        stats = run_client(HOST, port, config, recorder=recorder)
    assert stats.status == {200: 2}
    assert (stats.completed, stats.errors, stats.error_types) == (0, 2, {UPGRADE_IGNORED: 2})
    responses = [e for e in recorder.events if e.kind == K.CLIENT_RESPONSE]
    assert [e.data["error"] for e in responses] == [UPGRADE_IGNORED] * 2
    assert tracer.summarize(recorder)["errors"] == 2


def test_an_ignored_upgrade_is_a_failed_outcome_for_the_pool() -> None:
    """Through the ``Pool`` (what ``trace run`` sends with): the outcome of an ignored upgrade
    carries its status, its bytes and the error, so the progress bar counts it failed as the
    report does (it was ``(200, 2, None)``: a success)."""
    import asyncio

    from tracer.client.pool import Pool
    from tracer.client.websocket import UPGRADE_IGNORED

    async def main(port: int) -> object:
        pool = Pool(HOST, port)
        try:
            return await pool.request(1, "/ws", ws_messages=1, timeout=10)
        finally:
            pool.close()

    with _serve_plain() as port:
        assert asyncio.run(main(port)) == (200, 2, UPGRADE_IGNORED)


def test_a_session_cut_after_the_handshake_keeps_its_status() -> None:
    """An accepted session whose reply never comes: the timeout fails it as TimeoutError,
    recorded with status 101, the handshake's ttfb and the replies that came (none), as a cut
    HTTP response keeps its status."""
    import asyncio

    from tracer.client.pool import Pool

    recorder = Recorder()

    async def main(port: int) -> object:
        pool = Pool(HOST, port, recorder=recorder)
        try:
            return await pool.request(1, "/ws-stall", ws_messages=1, timeout=0.5)
        finally:
            pool.close()

    with serve_uvicorn(raw_app) as port:
        outcome = asyncio.run(main(port))
    assert outcome == (101, 0, "timeout")
    (event,) = [e for e in recorder.events if e.kind == K.CLIENT_RESPONSE]
    data = event.data
    assert (data["status"], data["messages"], data["error"]) == (101, 0, "TimeoutError")
    assert 0 < data["ttfb_ns"] <= data["total_ns"]


async def _answers_in_japanese(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    """A websocket app that answers every message with the text 日本語 (3 characters, 9 bytes
    of UTF-8)."""
    if scope["type"] != "websocket":
        return
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": "日本語"})
        else:
            return


def test_text_replies_count_their_utf8_bytes() -> None:
    """2 sessions x 2 messages answered with 日本語: each session's ``bytes`` is 18 (UTF-8 bytes,
    not 6 characters), the same as the shim's ``asgi.send`` bytes on the server side."""
    import tracer

    recorder = Recorder()
    with serve_uvicorn(tracer.instrument(_answers_in_japanese, recorder=recorder)) as port:
        stats = run_client(
            HOST, port,
            ClientConfig(concurrency=1, requests=2, ws_messages=2, paths=("/ws",)),
            recorder=recorder,
        )  # fmt: skip
    assert (stats.completed, stats.errors) == (2, 0)
    events = recorder.events
    responses = [e for e in events if e.kind == K.CLIENT_RESPONSE]
    assert [(e.data["messages"], e.data["bytes"]) for e in responses] == [(2, 18), (2, 18)]
    # The shim (its own request ids: no server model passes the client's) counted the same.
    sent = [
        e.data["bytes"]
        for e in events
        if e.kind == K.ASGI_SEND and e.data["type"] == "websocket.send"
    ]
    assert sent == [9, 9, 9, 9]

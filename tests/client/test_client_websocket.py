"""WebSocket sessions: handshake with the request id, N messages each answered, clean close."""

from __future__ import annotations

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


def test_an_upgrade_answered_as_a_plain_request_is_a_failed_session() -> None:
    """A server that answers the handshake with a plain 200 (it does not speak WebSocket
    there): the session is recorded with that status and error UpgradeIgnored, and the
    summary counts it as an error."""
    import socketserver
    import threading

    import tracer
    from tracer.client.websocket import UPGRADE_IGNORED

    class Plain(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            while self.rfile.readline() not in (b"\r\n", b""):
                pass  # the upgrade request's head
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    with socketserver.ThreadingTCPServer((HOST, 0), Plain) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        recorder = Recorder()
        try:
            config = ClientConfig(concurrency=1, requests=2, ws_messages=1, paths=("/ws",))
            stats = run_client(HOST, server.server_address[1], config, recorder=recorder)
        finally:
            server.shutdown()
    assert stats.status == {200: 2}
    responses = [e for e in recorder.events if e.kind == K.CLIENT_RESPONSE]
    assert [e.data["error"] for e in responses] == [UPGRADE_IGNORED] * 2
    assert tracer.summarize(recorder)["errors"] == 2


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

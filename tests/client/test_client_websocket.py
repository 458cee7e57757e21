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

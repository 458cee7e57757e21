"""The HTTP/2 client: many streams on one connection to a real HTTP/2 server (hypercorn)."""

from __future__ import annotations

import pytest
from client_servers import HOST, in_flight_max, seen, serve_hypercorn

from tracer import events as K
from tracer.client import ClientConfig, run_client
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)


def test_streams_share_one_connection_and_the_server_sees_http2() -> None:
    """c=10 over HTTP/2: one connection, 30 responses, every scope says HTTP/2, ids linked."""
    seen.clear()
    recorder = Recorder()
    with serve_hypercorn() as port:
        stats = run_client(
            HOST, port, ClientConfig(concurrency=10, requests=30, http2=True), recorder=recorder
        )
    assert (stats.completed, stats.errors, stats.connections) == (30, 0, 1)
    assert stats.status == {200: 30}
    assert {s["http_version"] for s in seen} == {"2"}
    sent = {e.req for e in recorder.events if e.kind == K.CLIENT_SEND}
    assert {int(s["req"]) for s in seen} == sent


def test_streams_overlap_on_the_connection() -> None:
    """Slow responses on HTTP/2: several streams are in flight at once on the one connection."""
    recorder = Recorder()
    with serve_hypercorn() as port:
        stats = run_client(
            HOST, port,
            ClientConfig(concurrency=5, requests=10, http2=True, paths=("/slow?ms=50",)),
            recorder=recorder,
        )  # fmt: skip
    assert (stats.completed, stats.connections) == (10, 1)
    assert in_flight_max(recorder) == 5


def test_http2_refused() -> None:
    """No server: HTTP/2 streams fail cleanly, one error each."""
    from tracer.servers.real.harness import free_port

    stats = run_client(HOST, free_port(), ClientConfig(concurrency=3, requests=3, http2=True))
    assert (stats.completed, stats.errors) == (0, 3)


def test_bodies_larger_than_a_frame_and_the_window_are_sent_whole() -> None:
    """300 KB bodies on 4 streams of one connection: more than the 16 KiB frame and the 64 KiB
    flow-control window (every request failed with FrameTooLargeError): sent in frames the
    server allows, as its WINDOW_UPDATEs come, each arriving whole."""
    recorder = Recorder()
    body = b"b" * 300_000
    with serve_hypercorn() as port:
        stats = run_client(
            HOST, port,
            ClientConfig(
                concurrency=4, requests=8, http2=True, method="POST", body=body,
                paths=("/count",),
            ),
            recorder=recorder,
        )  # fmt: skip
    assert (stats.completed, stats.errors, stats.status) == (8, 0, {200: 8})
    responses = [e.data for e in recorder.events if e.kind == K.CLIENT_RESPONSE]
    assert [r["bytes"] for r in responses] == [len(b"300000")] * 8  # the server read it all

"""The HTTP/1.1 client: response parsing, keep-alive, a connection per request, recorded events."""

from __future__ import annotations

import asyncio

import pytest
from client_servers import HOST, seen, serve_uvicorn

import tracer
from tracer import events as K
from tracer.client import ClientConfig, run_client
from tracer.client.http1 import ProtocolError, ResponseParser
from tracer.client.pool import Pool
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)


def test_parser_content_length_across_feeds() -> None:
    """A response split anywhere completes exactly when its content-length is in."""
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"
    for cut in range(1, len(raw)):
        parser = ResponseParser()
        assert parser.feed(raw[:cut]) is False
        assert parser.feed(raw[cut:]) is True
        assert (parser.status, parser.body_bytes, parser.close) == (200, 10, False)


def test_parser_chunked_byte_by_byte() -> None:
    """A chunked body fed one byte at a time counts only payload bytes and ends at 0-chunk."""
    raw = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n"
    parser = ResponseParser()
    results = [parser.feed(raw[i : i + 1]) for i in range(len(raw))]
    assert results[-1] is True and not any(results[:-1])
    assert (parser.status, parser.body_bytes) == (201, 8)


def test_parser_no_body_close_and_errors() -> None:
    """204 ends at its head; no length means read until close; garbage is a ProtocolError."""
    parser = ResponseParser()
    assert parser.feed(b"HTTP/1.1 204 No Content\r\n\r\n") is True
    parser = ResponseParser()
    assert parser.feed(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc") is False
    assert parser.close and parser.eof() and parser.body_bytes == 3
    with pytest.raises(ProtocolError):
        ResponseParser().feed(b"SSH-2.0-OpenSSH\r\n\r\n")


def test_keepalive_reuses_one_connection_per_slot_and_links_ids() -> None:
    """c=4 keep-alive: 4 connections for 40 requests; each request carries its id to the app;
    each request's client events are exactly client.send, request.queued, client.response."""
    seen.clear()
    recorder = Recorder()
    with serve_uvicorn() as port:
        stats = run_client(
            HOST, port, ClientConfig(concurrency=4, requests=40, paths=("/", "/chunked")),
            recorder=recorder,
        )  # fmt: skip
    assert (stats.completed, stats.errors, stats.connections) == (40, 0, 4)
    assert stats.status == {200: 40}
    by_req: dict[int, list[str]] = {}
    for event in recorder.recording().events:
        by_req.setdefault(event.req, []).append(event.kind)
    assert len(by_req) == 40
    assert all(
        kinds == [K.CLIENT_SEND, K.REQUEST_QUEUED, K.CLIENT_RESPONSE] for kinds in by_req.values()
    )
    assert sorted(int(s["req"]) for s in seen) == sorted(by_req)
    responses = [e for e in recorder.events if e.kind == K.CLIENT_RESPONSE]
    chunked = [e for e in responses if e.data["bytes"] > 5000]
    assert len(chunked) == 20  # the chunked path's payload, framing not counted
    for event in responses:
        assert 0 < event.data["ttfb_ns"] <= event.data["total_ns"]
        assert event.t + event.dur == event.t - event.data["ttfb_ns"] + event.data["total_ns"]


def test_no_keepalive_opens_a_connection_per_request() -> None:
    """--no-keepalive: every request opens its own connection, and all succeed."""
    with serve_uvicorn() as port:
        stats = run_client(HOST, port, ClientConfig(concurrency=3, requests=12, keepalive=False))
    assert (stats.completed, stats.connections, stats.errors) == (12, 12, 0)


def test_bodies_and_no_content() -> None:
    """A 100 kB body is counted whole; a 204 completes with 0 bytes."""
    recorder = Recorder()
    with serve_uvicorn() as port:
        run_client(HOST, port, ClientConfig(concurrency=2, requests=4, paths=("/big", "/empty")),
                   recorder=recorder)  # fmt: skip
    sizes = sorted(
        (e.data["status"], e.data["bytes"]) for e in recorder.events if e.kind == K.CLIENT_RESPONSE
    )
    assert sizes == [(200, 100_000), (200, 100_000), (204, 0), (204, 0)]


def test_refused_connections_are_errors_not_crashes() -> None:
    """Nobody listening: every request fails with ConnectionRefusedError, recorded with no status."""
    from tracer.servers.real.harness import free_port

    recorder = Recorder()
    stats = run_client(
        HOST, free_port(), ClientConfig(concurrency=2, requests=5), recorder=recorder
    )
    assert (stats.completed, stats.errors) == (0, 5)
    assert stats.error_types == {"ConnectionRefusedError": 5}
    failures = [e for e in recorder.events if e.kind == K.CLIENT_RESPONSE]
    assert [e.data["status"] for e in failures] == [None] * 5


def test_the_client_owns_host_and_content_length() -> None:
    """Given Host/Content-Length/Connection headers are dropped: the request has exactly one of
    each, from the server's address and the body, so servers never see duplicates."""
    from tracer.client.http1 import build_request_head

    config = ClientConfig(
        method="POST",
        body=b"abc",
        headers=(("host", "127.0.0.1:8000"), ("Content-Length", "3"), ("X-Extra", "1")),
    )
    prefix, tail = build_request_head(config, "127.0.0.1:5000", close=True)
    assert prefix == b"POST "
    assert tail == (
        b"Host: 127.0.0.1:5000\r\nX-Extra: 1\r\nContent-Length: 3\r\nConnection: close\r\n\r\n"
    )


async def _short_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A server that declares 50 body bytes, sends 10 and closes the connection."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n0123456789")
    await writer.drain()
    writer.close()


def _one(port: int, path: str, recorder: Recorder, timeout: float = 10) -> object:
    async def main() -> object:
        pool = Pool(HOST, port, recorder=recorder)
        try:
            return await pool.request(1, path, timeout=timeout)
        finally:
            pool.close()

    return asyncio.run(main())


def _cut_response(recorder: Recorder) -> dict[str, object]:
    (event,) = [e for e in recorder.events if e.kind == K.CLIENT_RESPONSE]
    data = dict(event.data)
    ttfb, total = data["ttfb_ns"], data["total_ns"]
    assert isinstance(ttfb, int) and isinstance(total, int) and 0 < ttfb <= total
    sent = next(e for e in recorder.events if e.kind == K.CLIENT_SEND)
    assert event.t == sent.t + ttfb and event.t + (event.dur or 0) == sent.t + total
    return data


@pytest.mark.parametrize("where", ["fewer bytes than content-length", "app raised mid-body"])
def test_a_response_cut_mid_body_is_recorded_with_what_arrived(where: str) -> None:
    """The status line and headers came, then the connection closed before the body's end
    (a server sending 10 of its declared 50 bytes; an ASGI app raising after its first
    chunk, on uvicorn): client.response keeps the status, ttfb and the bytes received, with
    error IncompleteResponse saying where it was cut; the summary counts an error with
    that status."""
    recorder = Recorder()
    if where == "app raised mid-body":
        with serve_uvicorn() as port:
            outcome = _one(port, "/cut", recorder)
        expected, said = 5, "connection closed mid-body after 5 body bytes (chunked)"
    else:

        async def serve() -> tuple[object, int]:
            server = await asyncio.start_server(_short_body, HOST, 0)
            port = server.sockets[0].getsockname()[1]
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(None, _one, port, "/", recorder)
            server.close()
            await server.wait_closed()
            return result, port

        outcome, _ = asyncio.run(serve())
        expected, said = 10, "connection closed mid-body after 10 of 50 body bytes"
    assert outcome == (200, expected, "IncompleteResponse")
    data = _cut_response(recorder)
    assert (data["status"], data["bytes"], data["error"]) == (200, expected, "IncompleteResponse")
    assert data["message"] == said
    summary = tracer.summarize(recorder)
    assert (summary["errors"], summary["status"]) == (1, {"200": 1})


def test_a_timeout_during_the_body_keeps_the_status_and_the_bytes() -> None:
    """The client's timeout fires while a response streams (5 bytes, then nothing): the
    request fails as TimeoutError, recorded with its status, ttfb and the 5 bytes that came;
    the summary counts one timeout with status 200."""
    recorder = Recorder()
    with serve_uvicorn() as port:
        outcome = _one(port, "/stall", recorder, timeout=0.5)
    assert outcome == (200, 5, "timeout")
    data = _cut_response(recorder)
    assert (data["status"], data["bytes"], data["error"]) == (200, 5, "TimeoutError")
    assert data["message"] == "no complete response within 0.5s"
    summary = tracer.summarize(recorder)
    assert (summary["errors"], summary["status"]) == (1, {"200": 1})

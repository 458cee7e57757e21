"""The HTTP/1.1 client uploads a body a piece at a time and reads the response meanwhile:
a server that answers before reading the body is heard at once, and the client then stops
sending; a body read in full says when its last byte left (``upload_ns``)."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

import pytest
from client_servers import HOST, serve_uvicorn

from tracer import events as K
from tracer.client import ClientConfig, ClientStats, drive, run_client
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)

EARLY = b"early"


async def early_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers at once, never reading the request's body."""
    headers = [(b"content-length", str(len(EARLY)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": EARLY})


def _responses(recorder: Recorder) -> list[dict[str, Any]]:
    return [e.data for e in recorder.recording().events if e.kind == K.CLIENT_RESPONSE]


def test_a_response_before_the_upload_ends_is_read_and_the_rest_not_sent() -> None:
    """64 MiB to an app that answers without reading it (the server stops reading, its
    buffers fill): the client reads the whole response while the body still goes out, stops
    sending, and says how much of the body it had handed to the socket (``uploaded``, less
    than the body); the connection, left mid-request, is not reused."""
    body = b"b" * (64 << 20)
    recorder = Recorder()
    with serve_uvicorn(early_app) as port:
        stats = run_client(
            HOST, port, ClientConfig(concurrency=1, requests=2, method="POST", body=body),
            recorder=recorder,
        )  # fmt: skip
    assert stats.status == {200: 2} and stats.errors == 0
    responses = _responses(recorder)
    assert len(responses) == 2
    for data in responses:
        assert data["bytes"] == len(EARLY)
        assert 0 < data["uploaded"] < len(body)
        assert "upload_ns" not in data and "error" not in data
    assert stats.connections == 2


def test_a_body_read_in_full_says_when_it_had_left() -> None:
    """8 MiB to an app that reads it all, then answers its length: the body was all handed
    to the socket before the server could have read it, so ``upload_ns`` comes no later than
    the first byte of the answer; the connection is kept for the next request."""
    body = b"b" * (8 << 20)
    recorder = Recorder()
    with serve_uvicorn() as port:
        stats = run_client(
            HOST, port,
            ClientConfig(concurrency=1, requests=2, method="POST", body=body, paths=("/count",)),
            recorder=recorder,
        )  # fmt: skip
    assert stats.status == {200: 2} and stats.errors == 0
    for data in _responses(recorder):
        assert data["bytes"] == len(str(len(body)))
        assert 0 < data["upload_ns"] <= data["ttfb_ns"]
        assert "uploaded" not in data
    assert stats.connections == 1


def test_an_answer_before_a_reset_is_read_though_the_upload_broke() -> None:
    """A server that reads 1 MiB of the body, answers, and resets the connection (SO_LINGER
    0) while the rest still goes out; the client reads slowly (``read_rate``: one byte, then
    a pause), so the answer is still in its socket when its next write breaks, and asyncio
    stops reading there. The answer is read all the same and recorded, not a broken pipe."""
    body = b"b" * (16 << 20)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(1 << 20)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async def main() -> ClientStats:
        server = await asyncio.start_server(handle, HOST, 0)
        port = server.sockets[0].getsockname()[1]
        config = ClientConfig(concurrency=1, requests=3, method="POST", body=body, read_rate=1)
        try:
            return await drive(HOST, port, config)
        finally:
            server.close()
            await server.wait_closed()

    stats = asyncio.run(main())
    assert stats.status == {200: 3} and stats.errors == 0, stats.error_types

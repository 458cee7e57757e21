"""Responses that break HTTP: a malformed status line, more bytes than the Content-Length
declared (HTTP/1.1), a DATA frame past the content-length read together with its HEADERS
(HTTP/2). Each is recorded the same way every time, with what the client did receive."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from client_servers import HOST

from tracer import events as K
from tracer.client import ClientConfig
from tracer.client.http1 import ProtocolError, ResponseParser
from tracer.client.pool import Pool
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize(
    "line", [b"HTTP/1.1 None", b"HTTP/1.1 99 Weird", b"HTTP/1.1 -12 x", b"HTTP/1.1 2000 OK"]
)
def test_a_status_code_that_is_not_three_digits_is_a_protocol_error(line: bytes) -> None:
    """gunicorn writes ``HTTP/1.1 None`` for a WSGI app that yields before start_response:
    the client's own ProtocolError says so (not a ValueError that reads like the app's)."""
    with pytest.raises(ProtocolError) as caught:
        ResponseParser().feed(line + b"\r\nContent-Length: 0\r\n\r\n")
    assert str(caught.value) == f"malformed status line {line!r}"


def test_a_malformed_content_length_or_chunk_size_is_a_protocol_error() -> None:
    """Numbers in the head and the chunk sizes are checked as the status is."""
    with pytest.raises(ProtocolError, match="malformed Content-Length b'two'"):
        ResponseParser().feed(b"HTTP/1.1 200 OK\r\nContent-Length: two\r\n\r\n")
    with pytest.raises(ProtocolError, match="malformed chunk size b'zz'"):
        ResponseParser().feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")


def test_bytes_past_the_content_length_are_not_body() -> None:
    """``Content-Length: 2`` then ``hello``: 2 body bytes, 3 in excess."""
    parser = ResponseParser()
    assert parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhello") is True
    assert (parser.status, parser.body_bytes, parser.excess) == (200, 2, 3)
    parser.reset()
    assert parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhe") is True
    assert (parser.body_bytes, parser.excess) == (2, 0)


def test_bytes_past_the_last_chunk_are_excess_but_trailers_are_not() -> None:
    parser = ResponseParser()
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert parser.feed(head + b"2\r\nok\r\n0\r\n\r\nxyz") is True
    assert (parser.body_bytes, parser.excess) == (2, 3)
    parser.reset()
    raw = head + b"2\r\nok\r\n0\r\nX-Trailer: 1\r\n\r\n"
    assert [parser.feed(raw[i : i + 1]) for i in range(len(raw))][-1] is True
    assert (parser.body_bytes, parser.excess) == (2, 0)


class _Http1Server(asyncio.Protocol):
    """Answers every request on a kept-alive connection with ``reply``; counts connections."""

    reply = b""
    connections = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buf = b""
        type(self).connections += 1

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while b"\r\n\r\n" in self.buf:
            _, self.buf = self.buf.split(b"\r\n\r\n", 1)
            self.transport.write(self.reply)  # type: ignore[attr-defined]


async def _requests(factory: Any, paths: int, *, http2: bool, recorder: Recorder) -> list[Any]:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, HOST, 0)
    port = server.sockets[0].getsockname()[1]
    pool = Pool(HOST, port, ClientConfig(http2=http2), recorder=recorder)
    try:
        return [await pool.request(n, "/", timeout=5) for n in range(1, paths + 1)]
    finally:
        pool.close()
        server.close()


def _responses(recorder: Recorder) -> list[dict[str, Any]]:
    return [dict(e.data) for e in recorder.events if e.kind == K.CLIENT_RESPONSE]


def test_the_status_line_none_is_recorded_as_the_clients_protocol_error() -> None:
    class Server(_Http1Server):
        reply = b"HTTP/1.1 None\r\nContent-Length: 5\r\n\r\nhello"

    recorder = Recorder()
    asyncio.run(_requests(Server, 1, http2=False, recorder=recorder))
    (data,) = _responses(recorder)
    assert (data["status"], data["error"]) == (None, "ProtocolError")
    assert data["message"] == "malformed status line b'HTTP/1.1 None'"


def test_a_body_longer_than_its_content_length_fails_its_connection_not_the_next() -> None:
    """daphne's answer to an app that declares 2 bytes and sends 5: the response keeps its
    status and its 2 bytes, with a ProtocolError; the connection goes, so the next request
    goes on a new one and is not read from the 3 stray bytes."""

    class Server(_Http1Server):
        reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhello"

    Server.connections = 0
    recorder = Recorder()
    outcomes = asyncio.run(_requests(Server, 3, http2=False, recorder=recorder))
    assert outcomes == [(200, 2, "ProtocolError")] * 3
    assert Server.connections == 3
    for data in _responses(recorder):
        assert (data["status"], data["bytes"], data["error"]) == (200, 2, "ProtocolError")
        assert (
            data["message"]
            == "3 bytes past the end of the response (after its 2 declared body bytes)"
        )
        assert 0 < data["ttfb_ns"] <= data["total_ns"]


class _H2Server(asyncio.Protocol):
    """An HTTP/2 server (h2 directly) that answers every stream with ``length`` declared and
    ``body`` sent, HEADERS and DATA in one write, so the client reads them together."""

    def __init__(self) -> None:
        self.out = b""

    length = b"2"
    body = b"hello"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        from h2.config import H2Configuration
        from h2.connection import H2Connection

        self.transport = transport
        self.h2 = H2Connection(H2Configuration(client_side=False, header_encoding=None))
        self.h2.initiate_connection()
        self.write(self.h2.data_to_send())

    def write(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        from h2.events import RequestReceived

        for event in self.h2.receive_data(data):
            if isinstance(event, RequestReceived):
                stream = event.stream_id
                headers = [(b":status", b"200"), (b"content-length", self.length)]
                self.h2.send_headers(stream, headers)
                self.h2.send_data(stream, self.body)
                self.h2.end_stream(stream)  # a frame of its own, as hypercorn sends it
        self.write(self.h2.data_to_send())


@pytest.mark.parametrize(
    ("length", "nbytes", "why"),
    [(b"2", 0, "Expected 2 bytes, received 5"), (b"10", 5, "Expected 10 bytes, received 5")],
)
def test_http2_a_wrong_content_length_keeps_the_status_every_time(
    length: bytes, nbytes: int, why: str
) -> None:
    """The HEADERS come in the same read as the DATA h2 refuses: each of three requests keeps
    status 200, its time to first byte and the bytes h2 took, with IncompleteResponse (h2's
    error in the message), and each goes on a new connection."""

    class Server(_H2Server):
        pass

    Server.length = length
    recorder = Recorder()
    outcomes = asyncio.run(_requests(Server, 3, http2=True, recorder=recorder))
    assert outcomes == [(200, nbytes, "IncompleteResponse")] * 3
    for data in _responses(recorder):
        assert (data["status"], data["bytes"], data["error"]) == (200, nbytes, "IncompleteResponse")
        assert 0 < data["ttfb_ns"] <= data["total_ns"]
        assert data["message"] == (
            f"stream ended mid-body after {nbytes} body bytes (InvalidBodyLengthError: {why})"
        )


class _TricklingH2Server(_H2Server):
    """A right answer (``ok``, content-length 2) written 3 bytes at a time, so frame headers
    and payloads reach the client split across reads."""

    length = b"2"
    body = b"ok"

    def write(self, data: bytes) -> None:
        if not self.out:
            asyncio.get_running_loop().call_soon(self._trickle)
        self.out += data

    def _trickle(self) -> None:
        piece, self.out = self.out[:3], self.out[3:]
        self.transport.write(piece)  # type: ignore[attr-defined]
        if self.out:
            asyncio.get_running_loop().call_later(0.0002, self._trickle)


def test_http2_frames_split_across_reads_are_put_back_together() -> None:
    recorder = Recorder()
    outcomes = asyncio.run(_requests(_TricklingH2Server, 3, http2=True, recorder=recorder))
    assert outcomes == [(200, 2, None)] * 3

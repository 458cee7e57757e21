"""HTTP/2 uploads: a body sent whole says when its END_STREAM left (``upload_ns``); a stream
the server answered before the body's end says how much of it went (``uploaded``) and is
reset by the client (RST_STREAM CANCEL, RFC 9113, 8.1), so it closes on both sides; a stream
the server reset before answering is recorded as that reset, with its error code."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from client_servers import HOST, serve_hypercorn

from tracer import events as K
from tracer.client import ClientConfig, run_client
from tracer.client.pool import Pool
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)

REFUSED = b"too large"


async def early_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers 413 at once, before the request's body; then reads (and drops) what comes of
    it until the client leaves, so the server keeps the stream until the client resets it."""
    if scope["type"] != "http":
        return
    headers = [(b"content-length", str(len(REFUSED)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": REFUSED})
    while (await receive())["type"] != "http.disconnect":
        pass


class _CapturingPool(Pool):
    """A ``Pool`` that keeps the protocol of every connection it opens."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.protocols: list[Any] = []

    def connect(self, protocol: asyncio.BaseProtocol, slot: Any, host: str, port: int) -> None:
        """Open the connection, keeping its protocol."""
        self.protocols.append(protocol)
        super().connect(protocol, slot, host, port)


def _responses(recorder: Recorder) -> list[dict[str, Any]]:
    return [e.data for e in recorder.events if e.kind == K.CLIENT_RESPONSE]


def test_a_body_sent_whole_says_when_its_end_left() -> None:
    """300 KB bodies on 3 streams of one hypercorn connection, read whole by the app: each
    ``client.response`` has ``upload_ns``, the body's END_STREAM having left before the answer
    (the app answers once it has read it all), and no ``uploaded``."""
    body = b"b" * 300_000
    recorder = Recorder()
    with serve_hypercorn() as port:
        stats = run_client(
            HOST, port,
            ClientConfig(
                concurrency=3, requests=6, http2=True, method="POST", body=body,
                paths=("/count",),
            ),
            recorder=recorder,
        )  # fmt: skip
    assert (stats.status, stats.errors, stats.connections) == ({200: 6}, 0, 1)
    responses = _responses(recorder)
    assert [r["bytes"] for r in responses] == [len(b"300000")] * 6
    for data in responses:
        assert 0 < data["upload_ns"] <= data["ttfb_ns"]
        assert "uploaded" not in data


def test_an_early_answer_says_how_much_of_the_body_went() -> None:
    """A 4 MiB upload to hypercorn, answered 413 before its body: a complete response that
    says how much of the body had gone (``uploaded``, less than the body), and its stream is
    closed in the client's h2 state once the answer is in (the client reset it). One
    request: hypercorn's connection dies on the body's frames still on their way after its
    answer (a ``KeyError`` in its own h2 handling), which a next request would meet."""
    body = b"b" * (4 << 20)
    recorder = Recorder()

    async def main(port: int) -> tuple[Any, int]:
        pool = _CapturingPool(HOST, port, ClientConfig(http2=True), recorder=recorder)
        try:
            sending = asyncio.ensure_future(
                pool.request(1, "/", method="POST", body=body, timeout=10)
            )
            await asyncio.sleep(0)  # the request is on its way: its connection's h2 exists
            h2 = pool.protocols[0].h2  # kept: a lost connection's client takes a new one
            outcome = await sending
            return outcome, h2.open_outbound_streams
        finally:
            pool.close()

    with serve_hypercorn(early_app) as port:
        outcome, still_open = asyncio.run(main(port))
    assert (outcome, still_open) == ((413, len(REFUSED), None), 0)
    (data,) = _responses(recorder)
    assert 0 < data["uploaded"] < len(body)
    assert "upload_ns" not in data and "error" not in data


class _RawH2Server(asyncio.Protocol):
    """An HTTP/2 server written with h2 directly, for answers to pin exactly: each request's
    stream goes to ``answer``; ``frames`` keeps what the client sent on each stream, in order
    (``("data", n)``, ``("end",)``, ``("reset", code)``)."""

    frames: dict[int, list[tuple[Any, ...]]]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        from h2.config import H2Configuration
        from h2.connection import H2Connection

        self.transport = transport
        self.h2 = H2Connection(H2Configuration(client_side=False, header_encoding=None))
        self.h2.initiate_connection()
        transport.write(self.h2.data_to_send())  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        from h2.events import DataReceived, RequestReceived, StreamEnded, StreamReset
        from h2.exceptions import StreamClosedError

        for event in self.h2.receive_data(data):
            if isinstance(event, RequestReceived):
                self.frames[event.stream_id] = [("headers",)]
                self.answer(event.stream_id)
            elif isinstance(event, DataReceived):
                self.frames[event.stream_id].append(("data", len(event.data)))
                # Taken and dropped, as a server does with a body it does not want: the
                # connection's window opens again for the next streams.
                try:
                    self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                except StreamClosedError:  # the server's own reset closed it
                    self.h2.acknowledge_received_data(event.flow_controlled_length, 0)
            elif isinstance(event, StreamEnded):
                self.frames[event.stream_id].append(("end",))
            elif isinstance(event, StreamReset):
                self.frames[event.stream_id].append(("reset", int(event.error_code)))
        self.transport.write(self.h2.data_to_send())  # type: ignore[attr-defined]

    def answer(self, stream: int) -> None:
        """Queue the answer on ``stream`` (sent after the read is handled)."""
        raise NotImplementedError


class _EarlyServer(_RawH2Server):
    """Answers 413 whole at once, before the body (which it takes and drops as it comes)."""

    def answer(self, stream: int) -> None:
        self.h2.send_headers(stream, [(b":status", b"413"), (b"content-length", b"2")])
        self.h2.send_data(stream, b"no", end_stream=True)


class _EarlyResettingServer(_EarlyServer):
    """Answers 413 whole, then asks the client to stop sending: RST_STREAM NO_ERROR."""

    def answer(self, stream: int) -> None:
        from h2.errors import ErrorCodes

        super().answer(stream)
        self.h2.reset_stream(stream, ErrorCodes.NO_ERROR)


class _RefusingServer(_RawH2Server):
    """Resets each stream with INTERNAL_ERROR before any answer."""

    def answer(self, stream: int) -> None:
        from h2.errors import ErrorCodes

        self.h2.reset_stream(stream, ErrorCodes.INTERNAL_ERROR)


def _serve_and_send(
    server: type[_RawH2Server], body: bytes, count: int, recorder: Recorder
) -> tuple[list[Any], dict[int, list[tuple[Any, ...]]], list[int], int]:
    """Send ``count`` requests with ``body`` one after another to ``server``: their outcomes,
    the frames the server got on each stream, the client's open streams after each, and the
    connections it opened."""
    frames: dict[int, list[tuple[Any, ...]]] = {}

    def make() -> _RawH2Server:
        protocol = server()
        protocol.frames = frames
        return protocol

    async def main() -> tuple[list[Any], list[int], int]:
        loop = asyncio.get_running_loop()
        listener = await loop.create_server(make, HOST, 0, family=socket.AF_INET)
        port = listener.sockets[0].getsockname()[1]
        pool = _CapturingPool(HOST, port, ClientConfig(http2=True), recorder=recorder)
        outcomes, open_after = [], []
        try:
            for req in range(1, count + 1):
                outcomes.append(await pool.request(req, "/", method="POST", body=body, timeout=10))
                open_after.append(pool.protocols[-1].h2.open_outbound_streams)
            await asyncio.sleep(0.1)  # the client's last frames reach the server
        finally:
            pool.close()
            listener.close()
            await listener.wait_closed()
        return outcomes, open_after, len(pool.protocols)

    outcomes, open_after, connections = asyncio.run(main())
    return outcomes, frames, open_after, connections


def test_the_client_resets_a_stream_answered_before_its_body_ended() -> None:
    """150 uploads of 1 MiB in a row, each answered 413 whole before its body: each stream
    gets the client's DATA, then its reset (RST_STREAM CANCEL, 0x8), and no frame after it;
    each is closed in the client's h2 state once its answer is in, and all go on one
    connection. ``uploaded`` is at most what the server got, below the body. Left half-open,
    the streams reached the server's 100 concurrent streams: the 101st request failed."""
    body = b"b" * (1 << 20)
    recorder = Recorder()
    outcomes, frames, open_after, connections = _serve_and_send(_EarlyServer, body, 150, recorder)
    assert outcomes == [(413, 2, None)] * 150
    assert (open_after, connections) == ([0] * 150, 1)
    streams = list(range(1, 300, 2))
    assert sorted(frames) == streams
    for stream, data in zip(streams, _responses(recorder), strict=True):
        got = frames[stream]
        assert got[0] == ("headers",) and got[-1] == ("reset", 8), got
        assert {frame[0] for frame in got[1:-1]} <= {"data"}, got
        received = sum(frame[1] for frame in got[1:-1])
        assert 0 < data["uploaded"] <= received < len(body)
        assert "upload_ns" not in data and "error" not in data


def test_a_reset_no_error_after_a_whole_answer_is_a_complete_response() -> None:
    """RFC 9113, 8.1: the server answers 413 whole, then RST_STREAM NO_ERROR to stop the
    upload: a complete response (no error) with ``uploaded`` below the body, the stream closed,
    and the next request goes on the same connection."""
    body = b"b" * (1 << 20)
    recorder = Recorder()
    outcomes, _, open_after, connections = _serve_and_send(_EarlyResettingServer, body, 2, recorder)
    assert outcomes == [(413, 2, None)] * 2
    assert (open_after, connections) == ([0, 0], 1)
    for data in _responses(recorder):
        assert 0 < data["uploaded"] < len(body)
        assert "error" not in data


def test_a_stream_the_server_reset_before_answering_is_its_reset() -> None:
    """The server resets the stream (INTERNAL_ERROR) before any answer: no status is made
    up; the error is the server's ``StreamReset`` with its code, and the next request goes on
    the same connection."""
    body = b"b" * (1 << 20)
    recorder = Recorder()
    outcomes, _, open_after, connections = _serve_and_send(_RefusingServer, body, 2, recorder)
    assert outcomes == [(None, 0, "StreamReset")] * 2
    assert (open_after, connections) == ([0, 0], 1)
    for data in _responses(recorder):
        assert data["status"] is None and data["error"] == "StreamReset"
        assert data["message"] == "stream reset by the server (INTERNAL_ERROR, 0x2)"

"""Interim (1xx) responses before the final one: 103 Early Hints, 100 Continue.

A client must read any number of 1xx heads before the final response, even unasked for (RFC
9110, 15.2); the final one is what ``client.response`` records: its status, and its first byte
as the time to first byte.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from client_servers import HOST, raw_app, serve_raw, serve_uvicorn

from tracer import events as K
from tracer.client import ClientConfig, run_client
from tracer.client.http1 import ResponseParser
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)

HINTS = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n"
FINAL = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


def test_parser_reads_the_final_response_after_interim_heads_at_any_split() -> None:
    """103 then 200 in one buffer, cut at every byte: complete only at the end, with the final
    status and body; a 100 and a 103 before a 204 likewise."""
    for raw, status, size in ((HINTS + FINAL, 200, 5),
                              (b"HTTP/1.1 100 Continue\r\n\r\n" + HINTS
                               + b"HTTP/1.1 204 No Content\r\n\r\n", 204, 0)):  # fmt: skip
        parser = ResponseParser()
        assert parser.feed(raw) is True
        assert (parser.status, parser.body_bytes, parser.excess) == (status, size, 0)
        for cut in range(1, len(raw)):
            parser = ResponseParser()
            assert parser.feed(raw[:cut]) is False, cut
            assert parser.feed(raw[cut:]) is True, cut
            assert (parser.status, parser.body_bytes, parser.excess) == (status, size, 0)
        parser = ResponseParser()
        results = [parser.feed(raw[i : i + 1]) for i in range(len(raw))]
        assert results[-1] is True and not any(results[:-1])
        assert parser.status == status


def test_parser_head_request_waits_past_a_100_continue() -> None:
    """A HEAD's response ends at its final head, not at a 100 Continue before it."""
    parser = ResponseParser(head=True)
    assert parser.feed(b"HTTP/1.1 100 Continue\r\n\r\n") is False
    assert not parser.started
    assert parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n") is True
    assert (parser.status, parser.body_bytes) == (200, 0)


def _responses(recorder: Recorder) -> list[dict[str, Any]]:
    return [e.data for e in recorder.events if e.kind == K.CLIENT_RESPONSE]


def test_early_hints_and_the_final_response_in_one_write() -> None:
    """The server writes 103 and 200 in one write: each request gets its 200 (it timed out,
    the 200 read as the 103's body), and the kept-alive connection carries them all."""

    async def answer(req: int, writer: asyncio.StreamWriter) -> None:
        writer.write(HINTS + FINAL)
        await writer.drain()

    recorder = Recorder()
    with serve_raw(answer) as port:
        stats = run_client(
            HOST, port, ClientConfig(concurrency=2, requests=6, timeout=2), recorder=recorder
        )
    assert (stats.completed, stats.errors, stats.connections) == (6, 0, 2)
    assert [(r["status"], r["bytes"], "error" in r) for r in _responses(recorder)] == [
        (200, 5, False)
    ] * 6


def test_interim_heads_split_anywhere_by_the_server() -> None:
    """The server writes 103 + 200 in two writes, cut at every byte boundary (request n at
    byte n), with a pause between: every response is the 200, whole, and its first byte (the
    client's ``t``) comes after the server began writing the 200, not at the 103's."""
    raw = HINTS + FINAL
    final_at: dict[int, int] = {}

    async def answer(req: int, writer: asyncio.StreamWriter) -> None:
        cut = req % len(raw) or 1
        writer.write(raw[:cut])
        await writer.drain()
        await asyncio.sleep(0.002)  # a separate segment, most likely: the order is asserted
        if cut <= len(HINTS):
            final_at[req] = time.monotonic_ns()
        writer.write(raw[cut:])
        await writer.drain()

    recorder = Recorder()
    with serve_raw(answer) as port:
        stats = run_client(
            HOST, port, ClientConfig(concurrency=1, requests=len(raw) - 1, timeout=2),
            recorder=recorder,
        )  # fmt: skip
    assert (stats.completed, stats.errors, stats.connections) == (len(raw) - 1, 0, 1)
    responses = [e for e in recorder.events if e.kind == K.CLIENT_RESPONSE]
    assert {(e.data["status"], e.data["bytes"]) for e in responses} == {(200, 5)}
    for event in responses:
        if event.req in final_at:
            assert event.t + recorder.start_ns >= final_at[event.req], event.req


def test_expect_100_continue_under_uvicorn() -> None:
    """``-H 'Expect: 100-continue'`` with a body: uvicorn answers 100 Continue when the app
    reads the body, then the response; every request gets its 200 (all timed out before)."""
    recorder = Recorder()
    config = ClientConfig(
        concurrency=2, requests=4, method="POST", paths=("/count",), body=b"hello",
        headers=(("Expect", "100-continue"),), timeout=2,
    )  # fmt: skip
    with serve_uvicorn(raw_app) as port:
        stats = run_client(HOST, port, config, recorder=recorder)
    assert (stats.completed, stats.errors, stats.status) == (4, 0, {200: 4})
    assert {(r["status"], r["bytes"]) for r in _responses(recorder)} == {(200, 1)}


def test_http2_informational_headers_before_the_final_ones() -> None:
    """HTTP/2: 103 and 100 HEADERS frames, then the 200's, written at once: the stream's
    response is the 200 (h2 reports the 1xx apart, as InformationalResponseReceived)."""
    from h2.config import H2Configuration
    from h2.connection import H2Connection
    from h2.events import RequestReceived

    class Server(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport: Any = transport
            self.h2 = H2Connection(H2Configuration(client_side=False, header_encoding=None))
            self.h2.initiate_connection()
            self.transport.write(self.h2.data_to_send())

        def data_received(self, data: bytes) -> None:
            for event in self.h2.receive_data(data):
                if isinstance(event, RequestReceived):
                    stream = event.stream_id
                    self.h2.send_headers(stream, [(b":status", b"103"), (b"link", b"</s.css>")])
                    self.h2.send_headers(stream, [(b":status", b"100")])
                    self.h2.send_headers(stream, [(b":status", b"200"), (b"content-length", b"5")])
                    self.h2.send_data(stream, b"hello", end_stream=True)
            self.transport.write(self.h2.data_to_send())

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(Server, HOST, 0))
    port = server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    recorder = Recorder()
    try:
        stats = run_client(
            HOST, port, ClientConfig(concurrency=2, requests=4, http2=True, timeout=2),
            recorder=recorder,
        )  # fmt: skip
    finally:
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
    assert (stats.completed, stats.errors, stats.connections) == (4, 0, 1)
    assert {(r["status"], r["bytes"]) for r in _responses(recorder)} == {(200, 5)}

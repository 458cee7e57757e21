"""HTTP/1.1 response framing (RFC 9112, 6.3): responses without a body keep the connection,
Transfer-Encoding beats Content-Length, Connection is a token list, bare-LF heads parse, and
a read of many small chunks is parsed in work linear in its length."""

from __future__ import annotations

import asyncio
from typing import Any, SupportsIndex

import pytest
from client_servers import HOST, serve_uvicorn

from tracer import events as K
from tracer.client import ClientConfig, run_client
from tracer.client.http1 import ResponseParser
from tracer.client.pool import Pool
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(30)

ports: list[int] = []
"""The client port of every request the no-body app below received."""


async def no_body_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers ``/204`` and ``/304`` with that status and no body, anything else with 200 and
    a Content-Length; notes each request's client port."""
    if scope["type"] != "http":
        return
    ports.append(scope["client"][1])
    status = {"/204": 204, "/304": 304}.get(scope["path"], 200)
    headers = [] if status != 200 else [(b"content-length", b"2")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok" if status == 200 else b""})


@pytest.mark.parametrize("path", ["/204", "/304"])
def test_a_response_without_a_body_keeps_the_connection_under_uvicorn(path: str) -> None:
    """uvicorn's 204 and 304 carry no Content-Length (they have no body): -c 2 -n 10 uses 2
    connections, as for a 200, not one per request (each closed as if read to its end)."""
    ports.clear()
    recorder = Recorder()
    with serve_uvicorn(no_body_app) as port:
        stats = run_client(
            HOST, port, ClientConfig(concurrency=2, requests=10, paths=(path,)), recorder=recorder
        )
    status = int(path[1:])
    assert (stats.completed, stats.errors, stats.status) == (10, 0, {status: 10})
    assert stats.connections == 2
    assert len(ports) == 10 and len(set(ports)) == 2
    responses = [e.data for e in recorder.events if e.kind == K.CLIENT_RESPONSE]
    assert [(d["status"], d["bytes"]) for d in responses] == [(status, 0)] * 10


class _Server(asyncio.Protocol):
    """Answers every request head on a kept-alive connection with ``reply``, never closing;
    counts the connections and the requests it read."""

    reply = b""
    connections = 0
    requests = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buf = b""
        type(self).connections += 1

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while b"\r\n\r\n" in self.buf:
            _, self.buf = self.buf.split(b"\r\n\r\n", 1)
            type(self).requests += 1
            self.transport.write(self.reply)  # type: ignore[attr-defined]


def _serve(reply: bytes, count: int, *, method: str = "GET") -> tuple[list[Any], type[_Server]]:
    """``count`` requests one after another through a ``Pool`` to a raw server that answers
    each with ``reply``; their outcomes and the server's class (its counters)."""

    class Server(_Server):
        pass

    Server.reply = reply

    async def main() -> list[Any]:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Server, HOST, 0)
        port = server.sockets[0].getsockname()[1]
        pool = Pool(HOST, port, ClientConfig())
        try:
            return [
                await pool.request(n, "/", method=method, timeout=3) for n in range(1, count + 1)
            ]
        finally:
            pool.close()
            server.close()

    return asyncio.run(main()), Server


def test_a_head_response_without_a_length_keeps_the_connection() -> None:
    """gunicorn's answer to HEAD for a body of no declared length: a head alone, with
    ``Connection: keep-alive``. It is the whole response (no body follows a HEAD's head),
    and the connection is reused: 3 requests, 1 connection."""
    reply = b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n"
    outcomes, server = _serve(reply, 3, method="HEAD")
    assert outcomes == [(200, 0, None)] * 3
    assert (server.connections, server.requests) == (1, 3)


def test_transfer_encoding_chunked_overrides_content_length() -> None:
    """Both headers, Content-Length first or last: the body is read chunked (RFC 9112, 6.3),
    whole, and the connection is not reused after such a message."""
    body = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    for head in (
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
    ):
        outcomes, server = _serve(head + body, 2)
        assert outcomes == [(200, 11, None)] * 2
        assert (server.connections, server.requests) == (2, 2)


def test_connection_close_among_other_tokens_closes() -> None:
    """``Connection: close, x-foo`` says close (a list of tokens): the client does not send
    the next request on that connection (the server here leaves it open)."""
    outcomes, server = _serve(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close, x-foo\r\n\r\nok", 3
    )
    assert outcomes == [(200, 2, None)] * 3
    assert (server.connections, server.requests) == (3, 3)
    outcomes, server = _serve(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: x-foo\r\n\r\nok", 3
    )
    assert outcomes == [(200, 2, None)] * 3
    assert (server.connections, server.requests) == (1, 3)


def test_a_head_with_bare_lf_line_endings_is_read() -> None:
    """A head whose lines end in LF alone (RFC 9112, 2.2 lets a recipient accept them) is
    read at once, not waited on until the timeout."""
    outcomes, server = _serve(b"HTTP/1.1 200 OK\nContent-Length: 5\n\nhello", 2)
    assert outcomes == [(200, 5, None)] * 2
    assert server.connections == 1
    parser = ResponseParser()
    assert parser.feed(b"HTTP/1.1 204 No Content\nX-A: 1\r\n\n") is True
    assert (parser.status, parser.close) == (204, False)


def test_a_reply_that_is_not_http_fails_at_once() -> None:
    """Bytes that cannot start a status line fail the request as they come (no head end to
    wait for)."""
    outcomes, _server = _serve(b"<html>oops", 1)
    assert outcomes == [(None, 0, "ProtocolError")]


def test_the_parser_no_body_rules() -> None:
    """No body for HEAD, 1xx, 204 and 304 whatever the headers; a 101 ends HTTP on the
    connection; a response of no declared length runs to the close."""
    parser = ResponseParser(head=True)
    assert parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") is True
    assert (parser.body_bytes, parser.close, parser.eof()) == (0, False, False)
    parser = ResponseParser()
    assert parser.feed(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n") is True
    assert (parser.status, parser.close) == (304, False)
    parser = ResponseParser()
    assert parser.feed(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n") is True
    assert (parser.status, parser.close) == (101, True)
    parser = ResponseParser()
    assert parser.feed(b"HTTP/1.0 204 No Content\r\n\r\n") is True
    assert parser.close  # HTTP/1.0 without keep-alive
    parser = ResponseParser()
    assert parser.feed(b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\nabc") is False
    assert (parser.close, parser.eof(), parser.body_bytes) == (True, True, 3)


class _Counted(bytes):
    """Bytes that count what their slices copy (and their slices' slices), and fail once
    that passes ``limit``: a parser that copies the rest of the buffer per chunk does so
    long before its end."""

    copied = 0
    limit = 0

    def __getitem__(self, key: SupportsIndex | slice) -> Any:  # type: ignore[override]
        part = bytes.__getitem__(self, key)
        if isinstance(key, slice):
            type(self).copied += len(part)
            assert type(self).copied <= type(self).limit, "copied more than linear work"
            return _Counted(part)
        return part


def test_many_small_chunks_in_one_read_are_parsed_in_linear_work() -> None:
    """300 KB of 10-byte chunks in one buffer: all 200,000 body bytes counted, with at most
    twice the buffer's length copied in slices (copying the rest per chunk is ~10^9)."""
    chunks = b"a\r\n0123456789\r\n" * 20_000
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
    _Counted.copied, _Counted.limit = 0, 2 * len(raw)
    parser = ResponseParser()
    assert parser.feed(_Counted(raw)) is True
    assert (parser.body_bytes, parser.excess) == (200_000, 0)
    # Split anywhere, the same count.
    for cut in (1, 50, 60, 100_001, len(raw) - 3):
        parser = ResponseParser()
        assert parser.feed(_Counted(raw[:cut])) is False
        assert parser.feed(_Counted(raw[cut:])) is True
        assert parser.body_bytes == 200_000
    assert _Counted.copied <= _Counted.limit


def test_small_chunks_in_one_write_through_a_real_socket() -> None:
    """A server writing 200 KB of 10-byte chunks at once: the response is counted whole."""
    body = b"a\r\n0123456789\r\n" * 20_000 + b"0\r\n\r\n"
    outcomes, _server = _serve(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body, 2)
    assert outcomes == [(200, 200_000, None)] * 2

"""The HTTP/2 client: many streams on one connection to a real HTTP/2 server (hypercorn)."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

import pytest
from client_servers import HOST, in_flight_max, seen, serve_hypercorn

from tracer import events as K
from tracer.client import ClientConfig, run_client
from tracer.client.pool import Pool
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


class _RawH2Server(asyncio.Protocol):
    """An HTTP/2 server written with h2 directly, for answers no real server gives: each
    request's stream goes to ``answer``."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        from h2.config import H2Configuration
        from h2.connection import H2Connection

        self.transport = transport
        self.h2 = H2Connection(H2Configuration(client_side=False, header_encoding=None))
        self.h2.initiate_connection()
        transport.write(self.h2.data_to_send())  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        from h2.events import RequestReceived

        for event in self.h2.receive_data(data):
            if isinstance(event, RequestReceived):
                self.answer(event.stream_id)
        self.transport.write(self.h2.data_to_send())  # type: ignore[attr-defined]

    def answer(self, stream: int) -> None:
        """Queue the answer on ``stream`` (sent after the read is handled)."""
        raise NotImplementedError


class _ResettingServer(_RawH2Server):
    """An HTTP/2 server that answers every stream with a status, 7 body bytes, and then a
    RST_STREAM: a response cut short, as a server does when its app fails mid-body."""

    def answer(self, stream: int) -> None:
        from h2.errors import ErrorCodes

        self.h2.send_headers(stream, [(b":status", b"200")])
        self.h2.send_data(stream, b"partial")
        self.h2.reset_stream(stream, ErrorCodes.INTERNAL_ERROR)


async def _one(port: int, path: str, recorder: Recorder, timeout: float) -> object:
    pool = Pool(HOST, port, ClientConfig(http2=True), recorder=recorder)
    try:
        return await pool.request(1, path, timeout=timeout)
    finally:
        pool.close()


def _response(recorder: Recorder) -> dict[str, object]:
    (event,) = [e for e in recorder.events if e.kind == K.CLIENT_RESPONSE]
    assert 0 < event.data["ttfb_ns"] <= event.data["total_ns"]
    return dict(event.data)


def test_a_stream_reset_mid_body_is_recorded_with_what_arrived() -> None:
    """Status and 7 body bytes, then the server resets the stream: client.response keeps the
    status, ttfb and the 7 bytes, with error IncompleteResponse (as over HTTP/1.1)."""
    recorder = Recorder()

    async def main() -> object:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_ResettingServer, HOST, 0)
        port = server.sockets[0].getsockname()[1]
        try:
            return await _one(port, "/", recorder, 10)
        finally:
            server.close()

    assert asyncio.run(main()) == (200, 7, "IncompleteResponse")
    data = _response(recorder)
    assert (data["status"], data["bytes"], data["error"]) == (200, 7, "IncompleteResponse")
    assert str(data["message"]).startswith("stream ended mid-body after 7 body bytes (stream reset")


def test_a_timeout_during_the_body_keeps_the_status_and_the_bytes() -> None:
    """HTTP/2: the timeout fires while the body streams (5 bytes, then nothing): TimeoutError
    with the status and the 5 bytes, as over HTTP/1.1."""
    recorder = Recorder()
    with serve_hypercorn() as port:
        outcome = asyncio.run(_one(port, "/stall", recorder, 0.5))
    assert outcome == (200, 5, "timeout")
    data = _response(recorder)
    assert (data["status"], data["bytes"], data["error"]) == (200, 5, "TimeoutError")


class _MislengthServer(_RawH2Server):
    """An HTTP/2 server whose first answer declares 100 body bytes and sends 10 (a protocol
    error the client's h2 refuses, closing the connection's state machine); every later
    answer is right: 200 and ``ok``."""

    answered = 0

    def answer(self, stream: int) -> None:
        first = _MislengthServer.answered == 0
        _MislengthServer.answered += 1
        body = b"x" * 10 if first else b"ok"
        length = b"100" if first else b"2"
        self.h2.send_headers(stream, [(b":status", b"200"), (b"content-length", length)])
        self.h2.send_data(stream, body, end_stream=True)


def test_after_a_protocol_error_the_next_request_goes_on_a_new_connection() -> None:
    """The first response breaks HTTP/2 (a content-length it does not keep): that request
    fails, and the next one is sent on a new connection and answered (it failed unsent with
    ProtocolError before, in a closed connection's state machine)."""
    recorder = Recorder()
    _MislengthServer.answered = 0

    async def main() -> list[object]:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_MislengthServer, HOST, 0)
        port = server.sockets[0].getsockname()[1]
        pool = Pool(HOST, port, ClientConfig(http2=True), recorder=recorder)
        try:
            return [await pool.request(n, "/", timeout=5) for n in (1, 2, 3)]
        finally:
            pool.close()
            server.close()

    first, *rest = asyncio.run(main())
    assert first[2] is not None  # type: ignore[index]
    assert rest == [(200, 2, None), (200, 2, None)]
    assert _MislengthServer.answered == 3


class _GoawayServer(_RawH2Server):
    """An HTTP/2 server that answers ``limit`` streams on a connection and then says GOAWAY
    (as hypercorn does after ``keep_alive_max_requests``): streams it had not taken by then
    get no answer on that connection, and it closes it a moment later."""

    limit = 3
    connections = 0
    answered: list[tuple[int, int]] = []  # (connection number, stream id)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        _GoawayServer.connections += 1
        self.number = _GoawayServer.connections
        self.count = 0

    def data_received(self, data: bytes) -> None:
        from h2.events import RequestReceived

        if self.count >= self.limit:
            return  # gone away: no stream is taken any more
        taken = [e.stream_id for e in self.h2.receive_data(data) if isinstance(e, RequestReceived)]
        last = 0
        for stream in taken:
            if self.count < self.limit:
                self.count += 1
                self.answer(stream)
                last = stream
        if self.count >= self.limit:
            self.h2.close_connection(last_stream_id=last)
            asyncio.get_running_loop().call_later(0.2, self.transport.close)
        self.transport.write(self.h2.data_to_send())  # type: ignore[attr-defined]

    def answer(self, stream: int) -> None:
        _GoawayServer.answered.append((self.number, stream))
        self.h2.send_headers(stream, [(b":status", b"200"), (b"content-length", b"2")])
        self.h2.send_data(stream, b"ok", end_stream=True)


def test_after_goaway_the_untaken_and_later_requests_go_on_a_new_connection() -> None:
    """Ten requests, three per connection, then GOAWAY: every one is answered (the streams
    the server had not taken are sent again on the next connection, later ones wait for it);
    before, every request after the third failed, the first of them with the GOAWAY and the
    rest unsent, with ProtocolError in a closed connection's state machine."""
    recorder = Recorder()
    _GoawayServer.connections = 0
    _GoawayServer.answered = []

    async def main() -> list[object]:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_GoawayServer, HOST, 0)
        port = server.sockets[0].getsockname()[1]
        pool = Pool(HOST, port, ClientConfig(http2=True), recorder=recorder)
        try:
            sequential = [await pool.request(n, "/", timeout=5) for n in range(1, 5)]
            together = await asyncio.gather(
                *(pool.request(n, "/", timeout=5) for n in range(5, 11))
            )
            return sequential + list(together)
        finally:
            pool.close()
            server.close()

    assert asyncio.run(main()) == [(200, 2, None)] * 10
    assert _GoawayServer.connections == 4
    per_connection = [n for n, _ in _GoawayServer.answered]
    assert per_connection == sorted(per_connection)  # no connection answered after its GOAWAY
    responses = [e for e in recorder.events if e.kind == K.CLIENT_RESPONSE]
    assert sorted(e.req for e in responses) == list(range(1, 11))
    assert all(e.data.get("error") is None for e in responses)


class _ClosingServer(_RawH2Server):
    """An HTTP/2 server that answers a stream with its whole declared body (content-length 2,
    ``ok``) but no END_STREAM, then closes the connection."""

    def answer(self, stream: int) -> None:
        self.h2.send_headers(stream, [(b":status", b"200"), (b"content-length", b"2")])
        self.h2.send_data(stream, b"ok")
        asyncio.get_running_loop().call_soon(self.transport.close)  # after the write


def test_a_body_whole_by_its_content_length_is_complete_when_the_connection_closes() -> None:
    """Every byte of the declared body came, the connection closed before the END_STREAM: a
    complete response (it failed as IncompleteResponse "after 2 body bytes")."""
    recorder = Recorder()

    async def main() -> object:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_ClosingServer, HOST, 0)
        port = server.sockets[0].getsockname()[1]
        try:
            return await _one(port, "/", recorder, 10)
        finally:
            server.close()

    assert asyncio.run(main()) == (200, 2, None)
    data = _response(recorder)
    assert (data["status"], data["bytes"], data.get("error")) == (200, 2, None)


class _GoneAwayResettingServer(_RawH2Server):
    """An HTTP/2 server that takes a stream, says GOAWAY naming it as the last one taken, and
    resets the connection without answering it."""

    def answer(self, stream: int) -> None:
        self.h2.close_connection(last_stream_id=stream)
        sock = self.transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        asyncio.get_running_loop().call_soon(self.transport.abort)  # a reset, after the write


def test_a_reset_after_a_goaway_fails_the_taken_stream_as_gone_away() -> None:
    """The GOAWAY came, then the server reset the connection: the stream it had taken fails
    as the server having gone away before answering (it said "Connection reset by peer")."""
    recorder = Recorder()

    async def main() -> object:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_GoneAwayResettingServer, HOST, 0)
        port = server.sockets[0].getsockname()[1]
        try:
            return await _one(port, "/", recorder, 10)
        finally:
            server.close()

    assert asyncio.run(main()) == (None, 0, "ConnectionResetError")
    (event,) = [e for e in recorder.events if e.kind == K.CLIENT_RESPONSE]
    assert event.data["message"] == "the server went away (GOAWAY) before answering"
    assert "resent" not in event.data


class _CapturingPool(Pool):
    """A ``Pool`` that keeps the protocol of every connection it opens."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.protocols: list[Any] = []

    def connect(self, protocol: asyncio.BaseProtocol, slot: Any, host: str, port: int) -> None:
        """Open the connection, keeping its protocol."""
        self.protocols.append(protocol)
        super().connect(protocol, slot, host, port)


def _h2_server() -> Any:
    from h2.config import H2Configuration
    from h2.connection import H2Connection

    h2 = H2Connection(H2Configuration(client_side=False, header_encoding=None))
    h2.initiate_connection()
    return h2


async def _take_requests(conn: socket.socket, h2: Any, count: int) -> list[tuple[int, int]]:
    """Read ``count`` requests, (stream id, request id) each, and the client's ACK of the
    server's SETTINGS: then the client has read everything the server sent."""
    from h2.events import RequestReceived, SettingsAcknowledged

    loop = asyncio.get_running_loop()
    taken: list[tuple[int, int]] = []
    acknowledged = False
    while len(taken) < count or not acknowledged:
        data = await loop.sock_recv(conn, 65536)
        assert data, "the client closed the connection"
        for event in h2.receive_data(data):
            if isinstance(event, RequestReceived):
                taken.append((event.stream_id, int(dict(event.headers)[b"x-gateway-tracer-req"])))
            acknowledged = acknowledged or isinstance(event, SettingsAcknowledged)
    return taken


async def _answer_the_next_connection(listener: socket.socket, answered: list[int]) -> None:
    """Accept one connection and serve it as a plain HTTP/2 server (200 ``ok``, each request
    id in ``answered``) until the client closes it."""
    from h2.events import RequestReceived

    loop = asyncio.get_running_loop()
    conn, _ = await loop.sock_accept(listener)
    with conn:
        h2 = _h2_server()
        await loop.sock_sendall(conn, h2.data_to_send())
        while data := await loop.sock_recv(conn, 65536):
            for event in h2.receive_data(data):
                if isinstance(event, RequestReceived):
                    answered.append(int(dict(event.headers)[b"x-gateway-tracer-req"]))
                    _answer_ok(h2, event.stream_id)
            await loop.sock_sendall(conn, h2.data_to_send())


def _answer_ok(h2: Any, stream: int) -> None:
    h2.send_headers(stream, [(b":status", b"200"), (b"content-length", b"2")])
    h2.send_data(stream, b"ok", end_stream=True)


def _wait_for_reset(sock: Any) -> None:
    """Block (the loop with it) until the kernel has taken the server's reset on ``sock``."""
    import select

    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    for _ in range(500):
        if any(mask & select.POLLHUP for _, mask in poller.poll(10)):
            return
    raise AssertionError("the reset did not reach the client")


def test_a_write_that_meets_the_servers_reset_still_reads_its_goaway() -> None:
    """hypercorn's goodbye, exactly: it answers streams 1 and 3, says GOAWAY with 5 as the last
    stream taken (5 is never answered: its state machine is closed), closes, and resets the
    connection on the client's unread bytes, all before the client reads any of it; then the
    client writes a new stream (9), which fails with EPIPE. What had arrived is read all the
    same: 1 and 3 are answered, 5 fails as gone away, 7 and 9 (above the GOAWAY's last
    stream, never seen by the server) are sent again on a new connection and answered there,
    with ``resent``. Before, all five failed with BrokenPipeError."""
    recorder = Recorder()
    answered: list[int] = []

    async def main() -> list[object]:
        loop = asyncio.get_running_loop()
        with socket.create_server((HOST, 0)) as listener:
            listener.setblocking(False)
            port = listener.getsockname()[1]
            pool = _CapturingPool(HOST, port, ClientConfig(http2=True), recorder=recorder)
            first = [asyncio.ensure_future(pool.request(n, "/", timeout=10)) for n in (1, 2, 3, 4)]
            conn, _ = await loop.sock_accept(listener)
            h2 = _h2_server()
            await loop.sock_sendall(conn, h2.data_to_send())
            assert await _take_requests(conn, h2, 4) == [(1, 1), (3, 2), (5, 3), (7, 4)]
            # From here to the client's next write the loop does not run: the client reads
            # none of what follows before its write meets the reset.
            _answer_ok(h2, 1)
            _answer_ok(h2, 3)
            h2.close_connection(last_stream_id=5)
            conn.sendall(h2.data_to_send())
            conn.shutdown(socket.SHUT_WR)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            _wait_for_reset(pool.protocols[0].transport.get_extra_info("socket"))
            fifth = asyncio.ensure_future(pool.request(5, "/", timeout=10))
            serving = asyncio.ensure_future(_answer_the_next_connection(listener, answered))
            try:
                return list(await asyncio.gather(*first, fifth))
            finally:
                pool.close()
                serving.cancel()

    ok = (200, 2, None)
    assert asyncio.run(main()) == [ok, ok, (None, 0, "ConnectionResetError"), ok, ok]
    assert sorted(answered) == [4, 5]
    responses = {e.req: e.data for e in recorder.events if e.kind == K.CLIENT_RESPONSE}
    assert responses[3]["message"] == "the server went away (GOAWAY) before answering"
    assert [req for req in sorted(responses) if responses[req].get("resent")] == [4, 5]

"""After an HTTP/2 GOAWAY the refused streams go out again at once, on a new connection,
while the old one still finishes the streams the server took (RFC 9113, 6.8)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from client_servers import HOST
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import RequestReceived
from hyperframe.frame import GoAwayFrame

from tracer import events as K
from tracer.client import ClientConfig
from tracer.client.pool import Pool
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(30)


class _Server(asyncio.Protocol):
    """First connection: takes the first two streams, says GOAWAY naming the first as the
    last taken, and answers that first stream only once a request has come on a second
    connection (the refused one, sent again); then it closes. Later connections answer
    every stream. ``log`` lists what happened, in order."""

    connections = 0
    log: list[str] = []
    first: _Server | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport
        type(self).connections += 1
        self.number = type(self).connections
        self.h2 = H2Connection(H2Configuration(client_side=False, header_encoding=None))
        self.h2.initiate_connection()
        self.taken: list[int] = []
        self.held = 0
        if self.number == 1:
            type(self).first = self
        transport.write(self.h2.data_to_send())

    def data_received(self, data: bytes) -> None:
        for event in self.h2.receive_data(data):
            if not isinstance(event, RequestReceived):
                continue
            req = int(dict(event.headers)[b"x-gateway-tracer-req"])
            if self.number == 1:
                self.taken.append(event.stream_id)
                if len(self.taken) == 2:  # hold the first, refuse the second
                    self.held = self.taken[0]
                    # The frame itself: h2's close_connection would leave its state
                    # machine unable to answer the stream taken (hypercorn's case).
                    goaway = GoAwayFrame(0, last_stream_id=self.held).serialize()
                    self.transport.write(self.h2.data_to_send() + goaway)
                    self.log.append("goaway")
                continue
            self.log.append(f"req {req} on connection {self.number}")
            _answer(self.h2, event.stream_id)
            first = type(self).first
            if first is not None and first.held:
                held, first.held = first.held, 0
                _answer(first.h2, held)
                first.transport.write(first.h2.data_to_send())
                first.log.append("held stream answered")
                asyncio.get_running_loop().call_soon(first.transport.close)
        self.transport.write(self.h2.data_to_send())


def _answer(h2: H2Connection, stream: int) -> None:
    h2.send_headers(stream, [(b":status", b"200"), (b"content-length", b"2")])
    h2.send_data(stream, b"ok", end_stream=True)


def test_refused_streams_go_out_at_once_while_the_old_connection_finishes() -> None:
    """Two requests on one connection; the server takes the first and refuses the second
    with its GOAWAY, and answers the first only after the second came again on a new
    connection. Both succeed, the second ``resent``; before, the second waited for the old
    connection to close, which waited for the second: both timed out."""
    _Server.connections, _Server.log, _Server.first = 0, [], None
    recorder = Recorder()

    async def main() -> list[Any]:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Server, HOST, 0)
        pool = Pool(HOST, server.sockets[0].getsockname()[1], ClientConfig(http2=True),
                    recorder=recorder)  # fmt: skip
        try:
            return list(await asyncio.gather(*(pool.request(n, "/", timeout=3) for n in (1, 2))))
        finally:
            pool.close()
            server.close()

    assert asyncio.run(main()) == [(200, 2, None), (200, 2, None)]
    assert _Server.log == ["goaway", "req 2 on connection 2", "held stream answered"]
    responses = {e.req: e.data for e in recorder.events if e.kind == K.CLIENT_RESPONSE}
    assert responses[2].get("resent") is True and "resent" not in responses[1]

"""HTTP/2 (cleartext, prior knowledge) with the ``h2`` state machine on an asyncio Protocol.

Many slots share one connection, one stream each, up to ``streams_per_connection`` (hypercorn
allows 100 concurrent streams by default). Writes made while a batch of frames is being handled
go out once, at the end of that batch. Imports only ``tracer.client``'s own modules and h2.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import (
    ConnectionTerminated,
    DataReceived,
    ResponseReceived,
    StreamEnded,
    StreamReset,
)
from h2.exceptions import H2Error

from tracer.client.config import OWN_HEADERS, REQUEST_ID_HEADER, ClientConfig

if TYPE_CHECKING:
    from tracer.client.sink import Sink

__all__ = ["H2Client", "H2Slot"]


class H2Client(asyncio.Protocol):
    """One HTTP/2 connection carrying the streams of several slots."""

    def __init__(self, driver: Sink, config: ClientConfig, host: str, port: int) -> None:
        self.driver = driver
        self.host = host
        self.port = port
        self.h2 = H2Connection(H2Configuration(client_side=True, header_encoding=None))
        self.transport: asyncio.Transport | None = None
        self.streams: dict[int, H2Slot] = {}
        self._waiting: list[tuple[H2Slot, int, str]] = []
        self._connecting = False
        self._in_batch = False
        self._method = config.method.encode("latin-1")
        self._authority = f"{host}:{port}".encode("latin-1")
        self._extra = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in config.headers
            if k.lower() not in OWN_HEADERS  # :authority replaces host; no connection headers
        ]
        self._body = config.body
        self.slot_count = 0

    def start(self, slot: H2Slot, req: int, path: str) -> None:
        """Open a stream for ``req`` (connecting first if needed)."""
        if self.transport is None:
            self._waiting.append((slot, req, path))
            if not self._connecting:
                self._connecting = True
                self.driver.connect(self, self, self.host, self.port)
            return
        try:
            stream_id = self.h2.get_next_available_stream_id()
        except H2Error as exc:
            slot.fail(exc)
            return
        headers = [
            (b":method", self._method),
            (b":scheme", b"http"),
            (b":authority", self._authority),
            (b":path", path.encode("latin-1")),
            (REQUEST_ID_HEADER.encode("latin-1"), str(req).encode("ascii")),
            *self._extra,
        ]
        if self._body:
            headers.append((b"content-length", str(len(self._body)).encode("ascii")))
        try:
            self.h2.send_headers(stream_id, headers, end_stream=not self._body)
            if self._body:
                self.h2.send_data(stream_id, self._body, end_stream=True)
        except H2Error as exc:  # the server said goodbye (GOAWAY) and the socket is closing
            slot.fail(exc)
            return
        slot.stream_id = stream_id
        self.streams[stream_id] = slot
        if not self._in_batch:
            self._flush()

    def reset(self, slot: H2Slot) -> None:
        """Cancel the stream of ``slot`` (it timed out)."""
        if self.streams.pop(slot.stream_id, None) is not None and self.transport is not None:
            try:
                self.h2.reset_stream(slot.stream_id)
            except H2Error:
                pass
            self._flush()

    def close(self) -> None:
        """Say goodbye and close the connection."""
        if self.transport is not None:
            try:
                self.h2.close_connection()
                self._flush()
            except H2Error:
                pass
            self.transport.close()
            self.transport = None

    def _flush(self) -> None:
        data = self.h2.data_to_send()
        if data and self.transport is not None:
            self.transport.write(data)

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """The connection is open."""
        self.transport = transport  # type: ignore[assignment]
        self._connecting = False
        self.h2.initiate_connection()
        self._flush()
        waiting, self._waiting = self._waiting, []
        for slot, req, path in waiting:
            self.start(slot, req, path)

    def connect_failed(self, exc: BaseException) -> None:
        """The connection could not be opened: every waiting stream fails."""
        self._connecting = False
        waiting, self._waiting = self._waiting, []
        for slot, _req, _path in waiting:
            slot.fail(exc)

    def data_received(self, data: bytes) -> None:
        """Bytes from the server."""
        clock = self.driver.clock
        self._in_batch = True
        try:
            events = self.h2.receive_data(data)
            for event in events:
                if isinstance(event, ResponseReceived):
                    slot = self.streams.get(event.stream_id)
                    if slot is not None:
                        slot.first = clock()
                        for name, value in event.headers or ():
                            if name == b":status":
                                slot.status = int(value)
                elif isinstance(event, DataReceived):
                    slot = self.streams.get(event.stream_id)
                    if slot is not None:
                        slot.nbytes += len(event.data or b"")
                    self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, StreamEnded):
                    slot = self.streams.pop(event.stream_id, None)
                    if slot is not None:
                        slot.finish()
                elif isinstance(event, StreamReset):
                    slot = self.streams.pop(event.stream_id, None)
                    if slot is not None:
                        slot.fail(ConnectionResetError(f"stream reset ({event.error_code!r})"))
                elif isinstance(event, ConnectionTerminated):
                    self._fail_all(ConnectionResetError("server ended the HTTP/2 connection"))
        except H2Error as exc:
            self._fail_all(exc)
        finally:
            self._in_batch = False
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection closed (``exc``: why, if it broke)."""
        self.transport = None
        self._fail_all(exc or ConnectionResetError("connection closed"))
        self.h2 = H2Connection(H2Configuration(client_side=True, header_encoding=None))

    def _fail_all(self, exc: BaseException) -> None:
        streams, self.streams = self.streams, {}
        for slot in streams.values():
            slot.fail(exc)


class H2Slot:
    """One stream at a time on a shared ``H2Client`` connection."""

    def __init__(self, driver: Sink, client: H2Client) -> None:
        self.driver = driver
        self.client = client
        self.busy_since = 0
        self.result: tuple[int | None, int, str | None] = (None, 0, None)
        self.future: Any = None
        self.key: tuple[Any, ...] = ()
        self.req = 0
        self.stream_id = 0
        self.first = 0
        self.status = 0
        self.nbytes = 0

    def submit(self, req: int, path: str) -> None:
        """Send one request on a new stream."""
        self.req, self.first, self.status, self.nbytes = req, 0, 0, 0
        self.busy_since = self.driver.send(req, path)
        self.client.start(self, req, path)

    def finish(self) -> None:
        """The stream ended: the response is complete."""
        sent, self.busy_since = self.busy_since, 0
        if sent:
            self.driver.finished(self, self.req, sent, self.first, self.status, self.nbytes)

    def fail(self, exc: BaseException | None) -> None:
        """The stream or the connection broke."""
        sent, self.busy_since = self.busy_since, 0
        if sent:
            self.driver.failed(self, self.req, sent, exc)

    def abort(self, exc: BaseException) -> None:
        """Give up on the stream in flight (timeout)."""
        self.client.reset(self)
        self.fail(exc)

    def close(self) -> None:
        """Close the shared connection (idempotent)."""
        self.client.close()

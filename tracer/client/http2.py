"""HTTP/2 (cleartext, prior knowledge) with the ``h2`` state machine on an asyncio Protocol.

Many slots share one connection, one stream each, up to ``streams_per_connection`` (hypercorn
allows 100 concurrent streams by default). Writes made while a batch of frames is being handled
go out once, at the end of that batch. Imports only ``tracer.client``'s own modules and h2.
"""

from __future__ import annotations

import asyncio
import copy
from collections import deque
from typing import TYPE_CHECKING, Any

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.events import (
    ConnectionTerminated,
    DataReceived,
    RemoteSettingsChanged,
    ResponseReceived,
    StreamEnded,
    StreamReset,
    WindowUpdated,
)
from h2.exceptions import H2Error
from h2.settings import SettingCodes

from tracer.client.config import OWN_HEADERS, REQUEST_ID_HEADER, ClientConfig
from tracer.client.sink import READ_BYTES, READ_FOR, RESENT, IncompleteResponse
from tracer.client.sink import StreamReset as StreamResetError
from tracer.client.unread import read_what_is_left

if TYPE_CHECKING:
    from tracer.client.sink import Sink

__all__ = ["H2Client", "H2Slot"]

_GONE_AWAY = "the server went away (GOAWAY) before answering"
_FRAME_HEAD = 9
"""Bytes of an HTTP/2 frame header: a 24-bit payload length, type, flags, stream id."""
_GOAWAY = 0x7
"""The frame type of GOAWAY."""
_UNREAD_LIMIT = 1 << 20
"""The most bytes read from a broken connection's socket (what the server sent before it went)."""
_STREAM_WINDOW = 16 << 20
"""The receive window each stream advertises (SETTINGS_INITIAL_WINDOW_SIZE), as curl's is
megabytes: with the default 64 KiB the server stops every 64 KiB of a response until the
client's WINDOW_UPDATE reaches it, and a 100 MB response took 50 times as long as over
HTTP/1.1. Nothing is buffered for it: the body is counted and dropped as it comes."""
_CONNECTION_WINDOW = 64 << 20
"""The whole connection's receive window: several streams' worth, so streams sharing the
connection do not wait on each other's acknowledgements."""
_DEFAULT_WINDOW = 65_535


class H2Client(asyncio.Protocol):
    """One HTTP/2 connection carrying the streams of several slots."""

    def __init__(self, driver: Sink, config: ClientConfig, host: str, port: int) -> None:
        self.driver = driver
        self.host = host
        self.port = port
        self.h2 = H2Connection(H2Configuration(client_side=True, header_encoding=None))
        self._abandoned = 0
        """Connections dropped after a protocol error whose ``connection_lost`` is still due."""
        self.transport: asyncio.Transport | None = None
        self.streams: dict[int, H2Slot] = {}
        self._waiting: list[tuple[H2Slot, int, str]] = []
        self._connecting = False
        self._closed = False
        """``close()`` was called: a connection lost after it opens no new one."""
        self._going_away = False
        """The server sent GOAWAY: no new stream goes on this connection (they go on the
        next one, opened at once)."""
        self._heir: H2Client | None = None
        """For a connection the server went away from: the client whose new connection takes
        its refused streams (None: this is the client's current connection)."""
        self._retiring: set[H2Client] = set()
        """Connections the server went away from, still finishing the streams it had taken."""
        self._in_batch = False
        self._refill = False
        """A read opened a flow-control window: bodies waiting for one go on after it."""
        self._inbox = b""
        """The start of a frame not whole yet (handed to h2 once it is)."""
        self.method = config.method
        self._method = config.method.encode("latin-1")
        self._authority = f"{host}:{port}".encode("latin-1")
        self._extra = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in config.headers
            if k.lower() not in OWN_HEADERS  # :authority replaces host; no connection headers
        ]
        self._body = config.body
        self.body_size = len(config.body)
        self.read_for = config.read_for
        self.read_bytes = config.read_bytes
        self._unsent: dict[int, int] = {}
        """Streams whose body is not all sent yet -> how much of it is (flow control)."""
        self._outbox: list[bytes] = []
        """Frames taken from h2 in this batch, written to the transport at its end."""
        self._outbox_size = 0
        self._queued = 0
        """Bytes of this connection taken from h2 so far (written or in the outbox): the
        offset in the connection's byte stream where the next frame ends up."""
        self._in_transit: set[H2Slot] = set()
        """Slots with DATA frames not yet known to be in the socket (see ``_settle``)."""
        self.slot_count = 0

    def start(self, slot: H2Slot, req: int, path: str) -> None:
        """Open a stream for ``req`` (connecting first if needed)."""
        slot.path = path
        self._closed = False
        if self.transport is None or self._going_away or self.transport.is_closing():
            # A closing transport (a write failed: connection_lost is due) takes no new
            # stream either: it goes out on the next connection, sent once.
            self._waiting.append((slot, req, path))
            if self.transport is None and not self._connecting:
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
        except H2Error as exc:  # the server said goodbye (GOAWAY) and the socket is closing
            slot.fail(exc)
            return
        slot.stream_id = stream_id
        slot.carrier = self
        slot.new_upload()
        self._in_transit.discard(slot)
        self.streams[stream_id] = slot
        if self._body:
            self._unsent[stream_id] = 0
            self._send_body(stream_id)
        if not self._in_batch:
            self._flush()

    def _send_body(self, stream_id: int) -> None:
        """Send what the stream's flow-control window and the peer's frame size allow of the
        body; the rest waits for the server's WINDOW_UPDATE (a 60 KiB body is four frames
        and more than the initial 64 KiB window allows for several streams at once)."""
        sent = self._unsent.get(stream_id)
        body = self._body
        h2 = self.h2
        slot = self.streams.get(stream_id)
        try:
            while sent is not None and sent < len(body):
                room = min(
                    h2.local_flow_control_window(stream_id),
                    h2.max_outbound_frame_size,
                    len(body) - sent,
                )
                if room <= 0:
                    break
                end = sent + room == len(body)
                h2.send_data(stream_id, body[sent : sent + room], end_stream=end)
                sent += room
                if slot is not None:
                    # Where this frame ends in the connection's bytes, and the body bytes
                    # sent once it is in the socket.
                    slot.marks.append((self._take(), sent))
                    self._in_transit.add(slot)
            if sent is not None and sent >= len(body):
                self._unsent.pop(stream_id, None)
            elif sent is not None:
                self._unsent[stream_id] = sent
        except H2Error as exc:
            self._unsent.pop(stream_id, None)
            slot = self.streams.pop(stream_id, None)
            if slot is not None:
                slot.fail(exc)

    def _send_bodies(self) -> None:
        for stream_id in list(self._unsent):
            self._send_body(stream_id)

    def reset(self, slot: H2Slot, code: int = ErrorCodes.NO_ERROR) -> None:
        """Reset the stream of ``slot`` with ``code`` (it timed out; CANCEL: the client read
        what it wanted), on whichever connection carries it."""
        self._waiting = [waiting for waiting in self._waiting if waiting[0] is not slot]
        for client in (self, *self._retiring):
            if client.streams.get(slot.stream_id) is slot:
                client._reset(slot, code)

    def _reset(self, slot: H2Slot, code: int) -> None:
        self._unsent.pop(slot.stream_id, None)
        if self.streams.pop(slot.stream_id, None) is not None and self.transport is not None:
            self._reset_stream(slot.stream_id, code)
            self._flush()
            self._close_if_gone_away()

    def _reset_stream(self, stream_id: int, code: int) -> None:
        """RST_STREAM ``code`` on ``stream_id`` (sent with the batch's other frames)."""
        try:
            self.h2.reset_stream(stream_id, code)
        except H2Error:  # closed already (the server's reset crossed ours)
            pass

    def close(self) -> None:
        """Say goodbye and close the connection (and those the server went away from)."""
        for retiring in list(self._retiring):
            retiring.close()
        self._closed = True
        if self.transport is not None:
            try:
                self.h2.close_connection()
                self._flush()
            except H2Error:
                pass
            self.transport.close()
            self.transport = None

    def _take(self) -> int:
        """Move the frames h2 has ready into the outbox; returns the offset of their end in
        the connection's bytes."""
        data = self.h2.data_to_send()
        if data:
            self._outbox.append(data)
            self._outbox_size += len(data)
            self._queued += len(data)
        return self._queued

    def _flush(self) -> None:
        self._take()
        outbox, self._outbox, self._outbox_size = self._outbox, [], 0
        if outbox and self.transport is not None:
            self.transport.writelines(outbox)
            self._settle()

    def _settle(self) -> None:
        """Count the body bytes the socket has taken: every DATA frame ending at or before
        the connection's bytes written minus those still in the transport's buffer. A body
        whose last frame (END_STREAM) is in says when (``upload_end``), as over HTTP/1.1 its
        last byte handed to the socket does."""
        transport = self.transport
        if not self._in_transit or transport is None:
            return
        taken = self._queued - self._outbox_size - transport.get_write_buffer_size()
        now = 0
        for slot in list(self._in_transit):
            if slot.carrier is not self:  # its stream went, and it carries one elsewhere now
                self._in_transit.discard(slot)
                continue
            marks = slot.marks
            while marks and marks[0][0] <= taken:
                slot.uploaded = marks.popleft()[1]
            if not marks:
                self._in_transit.discard(slot)
                if slot.uploaded >= self.body_size and not slot.upload_end:
                    slot.upload_end = now = now or self.driver.clock()

    def upload_fields(self, slot: H2Slot) -> dict[str, int]:
        """What ``client.response`` says of the body of ``slot``'s stream on this connection:
        ``upload_ns`` (send to its END_STREAM in the socket), or ``uploaded`` (the body
        bytes in the socket) when the response ended first and the rest was not sent."""
        if not self.body_size:
            return {}
        self._settle()
        if slot.upload_end:
            return {"upload_ns": slot.upload_end - slot.busy_since}
        return {"uploaded": slot.uploaded}

    def _restart_bytes(self) -> None:
        """A new connection (or none): its bytes count from 0, no frame of the last one is
        pending."""
        self._outbox, self._outbox_size, self._queued = [], 0, 0
        self._in_transit = set()

    def pause_writing(self) -> None:
        """The transport's buffer holds bytes the socket did not take (the high-water mark is
        0): the frames in it are not sent yet."""

    def resume_writing(self) -> None:
        """The transport's buffer drained into the socket: every frame written is in."""
        self._settle()

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """The connection is open."""
        writer: asyncio.Transport = transport  # type: ignore[assignment]
        self.transport = writer
        self._connecting = False
        self._restart_bytes()
        # A high-water mark of 0: ``resume_writing`` comes each time the buffer has drained
        # into the socket, which says when a body's last frame went (``_settle``).
        writer.set_write_buffer_limits(high=0)
        h2 = self.h2
        h2.initiate_connection()
        # Large receive windows, sent with the preface (before any stream), as curl does.
        h2.update_settings({SettingCodes.INITIAL_WINDOW_SIZE: _STREAM_WINDOW})
        h2.increment_flow_control_window(_CONNECTION_WINDOW - _DEFAULT_WINDOW)
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
        self._receive(data)
        self._flush()
        if self._going_away and self._heir is None:
            self._hand_over()
        else:
            self._close_if_gone_away()

    def _hand_over(self) -> None:
        """After GOAWAY: the streams the server took stay on this connection, handed with it
        to a retiring copy of this client (the socket's protocol from now on), and a new
        connection opens at once for the refused streams and the next ones. Waiting for the
        old connection to close first held them as long as the server kept it open, and
        forever for a server that finishes its taken streams before it closes."""
        transport = self.transport
        if transport is None:
            return
        retiring = copy.copy(self)
        retiring._heir = self
        retiring._retiring = set()
        retiring._waiting = []
        retiring._closed = True  # it opens no connection of its own
        retiring._connecting = False
        retiring._abandoned = 0
        transport.set_protocol(retiring)
        for slot in retiring.streams.values():
            slot.carrier = retiring
        self._retiring.add(retiring)
        self.transport = None
        self.streams = {}
        self._unsent = {}
        self._restart_bytes()
        self._inbox = b""
        self._going_away = False
        self.h2 = H2Connection(H2Configuration(client_side=True, header_encoding=None))
        retiring._close_if_gone_away()
        self._reconnect_for_waiting()

    def _receive(self, data: bytes) -> None:
        """Hand ``data`` to h2 a whole frame at a time, and each of its events to the stream
        it concerns. A frame at a time because h2 raises for a frame that breaks the protocol
        (DATA past the stream's content-length) and drops the events of the frames before it
        in the same call: a response's HEADERS, read together with its bad DATA, must still
        give the stream its status and first byte. Bytes of a frame not whole yet wait in
        ``_inbox``."""
        self._in_batch = True
        inbox = self._inbox + data if self._inbox else data
        start = 0
        try:
            while len(inbox) - start >= _FRAME_HEAD:
                size = int.from_bytes(inbox[start : start + 3], "big")
                end = start + _FRAME_HEAD + size
                if end > len(inbox):
                    if size <= self.h2.max_inbound_frame_size:
                        break
                    end = len(inbox)  # h2 refuses a frame too large at its header
                if inbox[start + 3] == _GOAWAY and 8 <= size == end - start - _FRAME_HEAD:
                    # Read here, not by h2: its state machine, once told of a GOAWAY, takes
                    # no more frames, so the streams the server took before it (and may
                    # still answer, RFC 9113, 6.8) could only fail with ProtocolError.
                    at = start + _FRAME_HEAD
                    self._go_away(int.from_bytes(inbox[at : at + 4], "big") & 0x7FFFFFFF)
                else:
                    self._handle(self.h2.receive_data(inbox[start:end]))
                start = end
            self._inbox = inbox[start:]
            if self._refill and self._unsent:
                # After every frame of the read: an answer read with the window it opened
                # (a server gives it back as it takes the body) has ended its stream, and the
                # body it did not want is not sent into that window.
                self._send_bodies()
        except H2Error as exc:
            # Dropped first: a stream completed here may start the next at once, which must
            # go out on a new connection, not into this closed state machine.
            self._abandon()
            self._fail_all(exc)
        finally:
            self._in_batch = False
            self._refill = False

    def _handle(self, events: list[Any]) -> None:
        """Each of h2's events to the stream it concerns."""
        clock = self.driver.clock
        for event in events:
            if isinstance(event, ResponseReceived):
                slot = self.streams.get(event.stream_id)
                if slot is not None:
                    slot.first = clock()
                    for name, value in event.headers or ():
                        if name == b":status":
                            slot.status = int(value)
                        elif name == b"content-length" and self.method != "HEAD":
                            slot.length = int(value)  # h2 checked it is a number
                    if self.read_for is not None and event.stream_ended is None:
                        slot.read_for(self.read_for)
            elif isinstance(event, DataReceived):
                slot = self.streams.get(event.stream_id)
                if slot is not None:
                    slot.nbytes += len(event.data or b"")
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                if (
                    slot is not None
                    and self.read_bytes is not None
                    and slot.nbytes >= self.read_bytes
                    and event.stream_ended is None  # not the response's end already
                ):
                    slot.stop_reading(READ_BYTES)
            elif isinstance(event, WindowUpdated | RemoteSettingsChanged):
                self._refill = True  # once the whole read is handled (``_receive``)
            elif isinstance(event, StreamEnded):
                slot = self.streams.get(event.stream_id)
                extra = self.upload_fields(slot) if slot is not None else {}
                if self._unsent.pop(event.stream_id, None) is not None:
                    # The server answered before the body was all sent: the rest is not
                    # sent, and the client's half of the stream is ended by a reset, as RFC
                    # 9113, 8.1 asks of a client that stops sending a request, so the
                    # stream closes on both sides, freeing its slot among the server's
                    # concurrent streams.
                    self._reset_stream(event.stream_id, ErrorCodes.CANCEL)
                self.streams.pop(event.stream_id, None)
                if slot is not None:
                    slot.finish(**extra)
            elif isinstance(event, StreamReset):
                self._unsent.pop(event.stream_id, None)
                slot = self.streams.pop(event.stream_id, None)
                if slot is not None:
                    slot.fail(StreamResetError(_reset_message(event.error_code)))
            elif isinstance(event, ConnectionTerminated):
                self._go_away(event.last_stream_id)

    def _go_away(self, last_stream_id: int | None) -> None:
        """The server sent GOAWAY (hypercorn does after ``keep_alive_max_requests``, 1,000 by
        default): streams above ``last_stream_id`` never reached its app, so they are sent
        again on the next connection, as browsers do; those at or below it were taken and
        may still be answered here (or fail with the connection). New streams wait for the
        next connection, opened once this one has closed. A stream sent again says so in its
        ``client.response`` (``resent``)."""
        self._going_away = True
        last = last_stream_id if last_stream_id is not None else 0
        heir = self._heir
        for stream_id in sorted(self.streams):
            if stream_id > last:
                slot = self.streams.pop(stream_id)
                self._unsent.pop(stream_id, None)
                slot.resent = True
                if heir is not None:  # a retiring connection's second GOAWAY
                    heir.start(slot, slot.req, slot.path)
                else:
                    self._waiting.append((slot, slot.req, slot.path))

    def _close_if_gone_away(self) -> None:
        """After GOAWAY, once no taken stream is left, close the connection ourselves (the
        server may keep it open); ``connection_lost`` then opens the next one."""
        if self._going_away and not self.streams and self.transport is not None:
            self.transport.close()

    def _abandon(self) -> None:
        """After a protocol error (a response longer or shorter than its content-length, a
        malformed frame) the connection's state machine is closed for good: drop the socket,
        and the next stream opens a new connection. They failed unsent before, with
        ``ProtocolError``, counted as the server's failures."""
        transport, self.transport = self.transport, None
        self._going_away = False
        self._inbox = b""
        self.h2 = H2Connection(H2Configuration(client_side=True, header_encoding=None))
        self._restart_bytes()
        if transport is not None:
            self._abandoned += 1
            transport.abort()
        self._reconnect_for_waiting()

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection closed (``exc``: why, if it broke)."""
        if self._abandoned:  # one dropped on purpose: a newer connection may be in use now
            self._abandoned -= 1
            return
        transport, self.transport = self.transport, None
        if exc is not None and transport is not None:
            # A write that failed (the server had closed: EPIPE, ECONNRESET) ends the transport
            # without reading what had arrived (after a failed read, nothing is left): hypercorn's GOAWAY and the ends of the streams
            # it answered just before closing are still in the socket. Read them first, so
            # streams above the GOAWAY's last-stream id are sent again and those answered
            # succeed. New streams meanwhile wait for the next connection.
            unread = read_what_is_left(transport, _UNREAD_LIMIT)
            if unread:
                self._receive(unread)
        if self._going_away:
            # Streams the server took before its GOAWAY and never answered: hypercorn runs
            # them but its closed state machine cannot send their responses (the socket's
            # reset, when it comes, says nothing more).
            exc = ConnectionResetError(_GONE_AWAY)
        self._going_away = False
        self._fail_all(exc or ConnectionResetError("connection closed"))
        self._inbox = b""
        self.h2 = H2Connection(H2Configuration(client_side=True, header_encoding=None))
        self._restart_bytes()
        if self._heir is not None:
            self._heir._retiring.discard(self)
        self._reconnect_for_waiting()

    def _reconnect_for_waiting(self) -> None:
        """Open the next connection for the streams waiting for one (a GOAWAY's)."""
        if self._waiting and not self._connecting and not self._closed:
            self._connecting = True
            self.driver.connect(self, self, self.host, self.port)

    def _fail_all(self, exc: BaseException) -> None:
        """The connection broke: every open stream fails, but one whose declared body came
        whole (all its content-length, its END_STREAM not yet) is a complete response."""
        self._unsent.clear()
        streams, self.streams = self.streams, {}
        for slot in streams.values():
            if slot.status >= 200 and slot.length is not None and slot.nbytes >= slot.length:
                slot.finish(**self.upload_fields(slot))
            else:
                slot.fail(exc)


def _reset_message(code: int) -> str:
    """``stream reset by the server (INTERNAL_ERROR, 0x2)``: the RST_STREAM's error code by
    its RFC 9113 name and number (a code h2 does not know, by its number alone)."""
    number = f"{int(code):#x}"
    if isinstance(code, ErrorCodes):
        return f"stream reset by the server ({code.name}, {number})"
    return f"stream reset by the server ({number})"


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
        self.path = ""
        self.stream_id = 0
        self.first = 0
        self.status = 0
        self.nbytes = 0
        self.length: int | None = None
        """The response's content-length, if it has one."""
        self.resent = False
        """The request went out again on a new connection (the server's GOAWAY left it out)."""
        self.carrier: H2Client | None = None
        """The connection carrying the stream (``client``, or one retiring after GOAWAY)."""
        self.marks: deque[tuple[int, int]] = deque()
        """DATA frames not known to be in the socket yet: (where each ends in the
        connection's bytes, the body bytes sent once it is in)."""
        self.uploaded = 0
        """Body bytes in the socket."""
        self.upload_end = 0
        """Client clock when the body's last frame was in the socket (0: not yet)."""
        self._timer: asyncio.TimerHandle | None = None

    def submit(self, req: int, path: str) -> None:
        """Send one request on a new stream."""
        self.req, self.first, self.status, self.nbytes = req, 0, 0, 0
        self.length, self.resent = None, False
        self.busy_since = self.driver.send(req, path, self.client.method, self.client.body_size)
        self.client.start(self, req, path)

    def new_upload(self) -> None:
        """The stream opens: none of its body has gone yet."""
        self.marks.clear()
        self.uploaded = self.upload_end = 0

    def read_for(self, seconds: float) -> None:
        """The response started: stop reading it ``seconds`` from now if it has not ended."""
        self._timer = self.driver.call_later(seconds, self._read_for_over, self.req)

    def _read_for_over(self, req: int) -> None:
        if req == self.req and self.busy_since:
            self.stop_reading(READ_FOR)

    def stop_reading(self, reason: str) -> None:
        """The client has read what it wanted: it cancels the stream (RST_STREAM CANCEL; the
        connection stays) and records the response with what came, closed on purpose."""
        self._cancel_timer()
        if not self.busy_since:
            return
        carrier = self.carrier
        uploaded = carrier.upload_fields(self) if carrier is not None else {}
        sent, self.busy_since = self.busy_since, 0
        self.client.reset(self, ErrorCodes.CANCEL)
        extra = {"client_closed": reason, **uploaded, **(RESENT if self.resent else {})}
        self.driver.finished(self, self.req, sent, self.first, self.status, self.nbytes, **extra)

    def _cancel_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def finish(self, **uploaded: int) -> None:
        """The stream ended: the response is complete (``uploaded``: what ``client.response``
        says of the body, ``H2Client.upload_fields``)."""
        self._cancel_timer()
        sent, self.busy_since = self.busy_since, 0
        if sent:
            extra = {**uploaded, **(RESENT if self.resent else {})}
            self.driver.finished(
                self, self.req, sent, self.first, self.status, self.nbytes, **extra
            )

    def fail(self, exc: BaseException | None) -> None:
        """The stream or the connection broke (or timed out); a response that had started is
        recorded with its status and the bytes that came."""
        self._cancel_timer()
        sent, self.busy_since = self.busy_since, 0
        if not sent:
            return
        status = self.status if self.status >= 200 else None
        if status is not None and not isinstance(exc, TimeoutError | asyncio.CancelledError):
            exc = IncompleteResponse(
                f"stream ended mid-body after {self.nbytes} body bytes ({exc or 'closed'})"
            )
        self.driver.failed(
            self, self.req, sent, exc, status=status, first=self.first, nbytes=self.nbytes,
            **(RESENT if self.resent else {}),
        )  # fmt: skip

    def abort(self, exc: BaseException) -> None:
        """Give up on the stream in flight (timeout)."""
        self.client.reset(self)
        self.fail(exc)

    def close(self) -> None:
        """Close the shared connection (idempotent)."""
        self.client.close()

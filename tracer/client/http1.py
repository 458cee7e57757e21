"""HTTP/1.1 over plain asyncio Protocols: a keep-alive connection per slot, or one per request.

Callbacks, not coroutines: a response completes inside ``data_received`` and the next request
is written from the same callback, so one client thread keeps up with a real server on the
same two cores (bench/server_overhead.py measured the alternatives). The response parser
handles exactly what servers send back: content-length, chunked, or read-until-close, after
any interim (1xx) heads, which it reads past; no body at all for HEAD, 1xx, 204 and 304.
Imports only ``tracer.client``'s own modules.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from tracer.client.config import OWN_HEADERS, REQUEST_ID_HEADER, ClientConfig
from tracer.client.sink import READ_BYTES, READ_FOR, RESENT, IncompleteResponse
from tracer.client.unread import read_what_is_left

if TYPE_CHECKING:
    from tracer.client.sink import Sink

__all__ = ["ResponseParser", "Http1Slot", "ProtocolError", "build_request_head"]

_NO_BODY_STATUS = frozenset({204, 304})
_LENGTH, _CHUNKED, _UNTIL_CLOSE = 0, 1, 2
"""How a response's body is delimited (with no body: ``_LENGTH`` with 0 bytes left)."""
_STATUS_START = b"HTTP/"
_LINE_LIMIT = 65536
"""The longest chunk-size line (extensions included) waited for before it is malformed."""
_INTERIM_STATUS = frozenset(range(100, 200)) - {101}
"""1xx heads a final response follows; 101 Switching Protocols ends HTTP on the connection."""

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
"""Methods a client may send again after a connection failure (RFC 9110, 9.2.2)."""
_UPLOAD_CHUNK = 256 * 1024
"""Body bytes handed to the transport at a time, while it is not paused: a body is written a
piece at a time, never copied whole, so the loop reads the response while it uploads (one
``write`` of a 20 MB body copied it three times on the loop: the response waited 50-100 ms)."""
_UNREAD_LIMIT = 1 << 20
"""The most bytes read from a connection broken on a write (the server's answer before it
closed)."""
_MAX_READ = 256 * 1024
"""The most bytes one read of a slow (``read_rate``) connection takes, as asyncio reads."""
STALE_WINDOW_NS = 20_000_000
"""How soon after a request went out on a kept-alive connection its close still means the
server had closed that connection already (not that the app died on the request)."""


class ProtocolError(Exception):
    """The server sent something that is not an HTTP/1.1 response."""


def build_request_head(config: ClientConfig, host: str, *, close: bool) -> tuple[bytes, bytes]:
    """The bytes before and after the request target and id: ``METHOD `` and the rest."""
    lines = [f"Host: {host}"]
    for name, value in config.headers:
        if name.lower() not in OWN_HEADERS:
            lines.append(f"{name}: {value}")
    if config.body or config.method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(config.body)}")
    if close:
        lines.append("Connection: close")
    tail = "\r\n".join(lines) + "\r\n\r\n"
    return f"{config.method} ".encode("latin-1"), tail.encode("latin-1")


class ResponseParser:
    """Incremental parser of one HTTP/1.1 response; ``feed`` returns True once it is complete.

    The body's length follows RFC 9112, 6.3: none for a response to HEAD and for a 1xx, 204 or
    304 (the head ends it, whatever its headers say), chunked when ``Transfer-Encoding`` ends
    with ``chunked`` (over any ``Content-Length``), else ``Content-Length``, else the rest of
    the connection. Heads whose lines end in a bare LF are read too (RFC 9112, 2.2).
    """

    __slots__ = (
        "_buf", "status", "body_bytes", "close", "_mode", "_left", "_head_done", "_head", "excess",
        "interim",
    )  # fmt: skip

    def __init__(self, *, head: bool = False) -> None:
        self._head = head
        self.reset()

    def reset(self) -> None:
        """Get ready for the next response on the same connection."""
        self._buf = b""
        self.status = 0
        self.body_bytes = 0
        self.close = False
        self._mode = _LENGTH
        self._left = 0
        self._head_done = False
        self.interim = 0
        """Interim (1xx) heads read before the final response's."""
        self.excess = 0
        """Bytes that came after the response's declared end (past its Content-Length, its
        last chunk, or the head of a response that has no body): not part of it, and not the
        start of a next response either (none was asked for yet)."""

    def feed(self, data: bytes) -> bool:
        """Take bytes from the socket; True when the response is complete."""
        buf = self._buf + data if self._buf else data
        pos = 0  # where the unread part of ``buf`` begins: read on without copying it
        while not self._head_done:
            start = buf[pos : pos + 5]
            if start and not _STATUS_START.startswith(start):
                # Not a status line's start: fail now, not after the whole --timeout.
                raise ProtocolError(f"not an HTTP/1.1 status line: {buf[pos : pos + 60]!r}")
            end, size = _head_end(buf, pos)
            if end < 0:
                self._buf = buf[pos:] if pos else buf
                return False
            self._parse_head(buf[pos:end])
            pos = end + size
            if self.status in _INTERIM_STATUS:
                # An interim response (100 Continue, 103 Early Hints) is a head alone; the
                # final response follows it, often in the same read (RFC 9110, 15.2).
                self.status, self.close, self._mode, self._left = 0, False, _LENGTH, 0
                self.interim += 1
                continue
            self._head_done = True
        self._buf = b""
        mode = self._mode
        if mode == _LENGTH:
            take = min(self._left, len(buf) - pos)
            self.body_bytes += take
            self._left -= take
            self.excess += len(buf) - pos - take
            return self._left <= 0
        if mode == _UNTIL_CLOSE:
            self.body_bytes += len(buf) - pos
            return False
        return self._feed_chunked(buf, pos)

    def eof(self) -> bool:
        """The connection closed: True if that completes a read-until-close response."""
        return self._head_done and self._mode == _UNTIL_CLOSE

    @property
    def started(self) -> bool:
        """The status line and headers are in (a final response's: not a 1xx)."""
        return self._head_done and self.status >= 200

    @property
    def mid_head(self) -> bool:
        """Part of a head (an interim or the final response's) is in, not all of it yet."""
        return not self._head_done and bool(self._buf)

    def cut(self) -> str:
        """How much of the body came, for a response cut short: ``10 of 50 body bytes``."""
        if self._mode == _LENGTH:
            return f"{self.body_bytes} of {self.body_bytes + max(0, self._left)} body bytes"
        return f"{self.body_bytes} body bytes (chunked)"

    def _parse_head(self, head: bytes) -> None:
        lines = head.split(b"\n")
        status_line = lines[0].rstrip(b"\r")
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise ProtocolError(f"not an HTTP/1.1 status line: {status_line[:60]!r}")
        code = parts[1]
        if len(code) != 3 or not code.isdigit():
            # Three digits (RFC 9112, 4), as h11 requires: gunicorn writes ``HTTP/1.1 None``
            # for a WSGI app that yields its body before calling start_response.
            raise ProtocolError(f"malformed status line {status_line[:60]!r}")
        status = self.status = int(code)
        length: bytes | None = None
        codings: list[bytes] = []
        connection: list[bytes] = []
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                value = value.strip()
                if not value.isdigit() or (length is not None and value != length):
                    raise ProtocolError(f"malformed Content-Length {value[:30]!r}")
                length = value
            elif name == b"transfer-encoding":
                codings += _tokens(value)
            elif name == b"connection":
                connection += _tokens(value)
        # Connection is a list of tokens (``close, x-foo`` closes); HTTP/1.0 closes unless
        # it says keep-alive.
        self.close = b"close" in connection or (
            parts[0] == b"HTTP/1.0" and b"keep-alive" not in connection
        )
        self._left = 0
        if self._head or status in _NO_BODY_STATUS or status < 200:
            # No body, whatever the headers say (RFC 9112, 6.3); a 101 hands the connection
            # to another protocol, so HTTP ends on it.
            self._mode = _LENGTH
            self.close = self.close or status == 101
        elif codings:
            # Transfer-Encoding overrides Content-Length (RFC 9112, 6.3); a body not chunked
            # last runs to the close. With both, the connection is not reused: a message
            # carrying both may be a smuggling attempt, and RFC 9112, 6.1 closes after it.
            if codings[-1] == b"chunked":
                self._mode, self._left = _CHUNKED, -1
            else:
                self._mode = _UNTIL_CLOSE
            self.close = self.close or self._mode == _UNTIL_CLOSE or length is not None
        elif length is not None:
            self._mode, self._left = _LENGTH, int(length)
        else:
            self._mode = _UNTIL_CLOSE
            self.close = True

    def _feed_chunked(self, buf: bytes, pos: int) -> bool:
        """Read chunks from ``buf[pos:]``, walking an offset (no copy per chunk: a read of
        many small chunks costs its length, not its length times the number of chunks)."""
        size_of_buf = len(buf)
        while True:
            if self._left < 0:  # expecting a chunk-size line
                end = buf.find(b"\r\n", pos)
                if end < 0:
                    if size_of_buf - pos > _LINE_LIMIT:
                        raise ProtocolError(f"malformed chunk size {buf[pos : pos + 30]!r}")
                    self._buf = buf[pos:]
                    return False
                size_field = buf[pos:end].split(b";", 1)[0].strip()
                try:
                    size = int(size_field, 16)
                except ValueError:
                    raise ProtocolError(f"malformed chunk size {size_field[:30]!r}") from None
                pos = end + 2
                if size == 0:
                    # Trailers (rare) end with an empty line; wait for it.
                    if buf.startswith(b"\r\n", pos):
                        stop = pos + 2
                    else:
                        stop = buf.find(b"\r\n\r\n", pos)
                        if stop < 0:
                            self._buf = b"0\r\n" + buf[pos:]
                            return False
                        stop += 4
                    self.excess += size_of_buf - stop
                    return True
                self._left = size + 2  # the chunk and its CRLF
            take = min(self._left, size_of_buf - pos)
            self.body_bytes += take
            self._left -= take
            pos += take
            if self._left > 0:
                return False
            self.body_bytes -= 2
            self._left = -1
            if pos == size_of_buf:
                return False


def _head_end(buf: bytes, pos: int) -> tuple[int, int]:
    """Where the head starting at ``pos`` ends (its empty line), and that line's size: CRLF
    or a bare LF (-1 while the empty line has not come)."""
    crlf = buf.find(b"\n\r\n", pos)
    lf = buf.find(b"\n\n", pos, crlf + 2 if crlf >= 0 else len(buf))
    if lf >= 0:
        return lf, 2
    if crlf >= 0:
        return crlf, 3
    return -1, 0


def _tokens(value: bytes) -> list[bytes]:
    """A header's comma-separated tokens, lowercased."""
    return [token.strip().lower() for token in value.split(b",") if token.strip()]


class _Connection(asyncio.Protocol):
    """One TCP connection of a slot; events of a connection the slot has left are dropped."""

    __slots__ = ("slot", "transport", "paused")

    def __init__(self, slot: Http1Slot) -> None:
        self.slot = slot
        self.transport: asyncio.Transport | None = None
        self.paused = False
        """The transport's buffer is above its high-water mark: the upload waits."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """The connection is open."""
        self.transport = transport  # type: ignore[assignment]
        if self.slot.conn is self:
            self.slot.connected(self)
        else:
            transport.close()

    def data_received(self, data: bytes) -> None:
        """Bytes from the server."""
        if self.slot.conn is self:
            self.slot.data_received(data)

    def pause_writing(self) -> None:
        """The transport buffers too much: stop handing it the body."""
        self.paused = True

    def resume_writing(self) -> None:
        """The transport's buffer drained: the upload goes on (or is over)."""
        self.paused = False
        if self.slot.conn is self and not self.slot.upload_due:
            self.slot.upload(self)

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection closed (``exc``: why, if it broke)."""
        slot = self.slot
        if slot.conn is not self:
            return
        if exc is not None and self.transport is not None and slot.busy_since:
            # A write broke (the server answered and closed while the body still went out):
            # asyncio stopped reading, but the answer may be in the socket already.
            data = read_what_is_left(self.transport, _UNREAD_LIMIT)
            if data:
                slot.data_received(data)
                if slot.conn is not self:  # the response is in (or failed): it is over
                    return
        slot.connection_lost(exc)


class _SlowConnection(_Connection, asyncio.BufferedProtocol):
    """A connection read at ``read_rate``: a small buffer per read, then no reading until the
    bytes read so far are due, so the server's writes wait on the client (its flow control)."""

    __slots__ = ("_buffer", "_rate")

    def __init__(self, slot: Http1Slot, rate: float) -> None:
        super().__init__(slot)
        # About ten reads a second: the rate holds within a tenth of a second, without a
        # read (and a timer) per byte at low rates.
        self._buffer = bytearray(max(1, min(_MAX_READ, int(rate / 10))))
        self._rate = rate

    def get_buffer(self, sizehint: int) -> bytearray:
        """Where the next read goes: at most one read's worth."""
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        """``nbytes`` came into the buffer: read on once they are due at the rate."""
        self.data_received(bytes(self._buffer[:nbytes]))
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.pause_reading()
            self.slot.driver.call_later(nbytes / self._rate, self._read_on)

    def _read_on(self) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing() and not transport.is_reading():
            transport.resume_reading()


class Http1Slot:
    """One request at a time over HTTP/1.1; reconnects when the server closes the connection."""

    def __init__(self, driver: Sink, config: ClientConfig, host: str, port: int) -> None:
        self.driver = driver
        self.host = host
        self.port = port
        self.keepalive = config.keepalive
        self._prefix, self._tail = build_request_head(
            config, f"{host}:{port}", close=not config.keepalive
        )
        self._header = f"{REQUEST_ID_HEADER}: ".encode("latin-1")
        self._body = memoryview(config.body)
        self.method = config.method
        self._parser = ResponseParser(head=config.method == "HEAD")
        self._read_for = config.read_for
        self._read_bytes = config.read_bytes
        self._read_rate = config.read_rate
        self.conn: _Connection | None = None
        self.req = 0
        self.busy_since = 0
        self.result: tuple[int | None, int, str | None] = (None, 0, None)
        self.future: Any = None
        self.key: tuple[Any, ...] = ()
        self.first = 0
        """Client clock at the final response's first byte (0: not yet)."""
        self._heard = 0
        """Client clock at the first byte of any answer, an interim one too (0: none yet)."""
        self._head_at = 0
        self._pending = False
        """A request waits for its connection to open."""
        self._request = b""
        """The request's head (its body goes after it, from ``_body``)."""
        self._uploaded = 0
        """Body bytes handed to the transport."""
        self._upload_end = 0
        """Client clock when the whole body had left for the socket (0: not yet)."""
        self.upload_due = False
        """The next piece of the body is to be handed over on the loop's next turn."""
        self._timer: asyncio.TimerHandle | None = None
        self._reused = False
        self._resent = False
        self._may_resend = config.method in IDEMPOTENT

    def submit(self, req: int, path: str) -> None:
        """Send one request; ``driver.finished`` is called when its response is complete."""
        self.req = req
        self.first = self._heard = self._head_at = 0
        self._resent = False
        self._parser.reset()
        self._request = b"".join(
            (self._prefix, path.encode("latin-1"), b" HTTP/1.1\r\n", self._header,
             str(req).encode("ascii"), b"\r\n", self._tail)
        )  # fmt: skip
        self.busy_since = self.driver.send(req, path, self.method, len(self._body))
        conn = self.conn
        if conn is not None and conn.transport is not None and not conn.transport.is_closing():
            self._reused = True
            self._write(conn)
            return
        self._open()

    def _open(self) -> None:
        """A new connection, the request written as soon as it is open."""
        self._reused = False
        self._pending = True
        if self._read_rate:
            self.conn = _SlowConnection(self, self._read_rate)
        else:
            self.conn = _Connection(self)
        self.driver.connect(self.conn, self, self.host, self.port)

    def _write(self, conn: _Connection) -> None:
        """Write the request's head, then its body as the transport takes it (``upload``)."""
        transport = conn.transport
        assert transport is not None
        self._uploaded = self._upload_end = 0
        transport.set_write_buffer_limits()  # the defaults (the last upload's end lowered them)
        transport.write(self._request)
        self.upload(conn)

    def upload(self, conn: _Connection) -> None:
        """Hand the transport the body one piece per turn of the loop, so the response is
        read as soon as it comes, however fast the server takes the body; stop while the
        transport is paused (its buffer above the high-water mark), go on when it resumes.
        The last piece goes with a high-water mark of 0: the resume after it says the whole
        body has left for the socket."""
        self.upload_due = False
        transport = conn.transport
        body = self._body
        size = len(body)
        if transport is None or conn is not self.conn or not self.busy_since or not size:
            return
        if self._uploaded < size and not conn.paused:
            end = min(size, self._uploaded + _UPLOAD_CHUNK)
            if end == size:
                transport.set_write_buffer_limits(high=0)
            transport.write(body[self._uploaded : end])
            self._uploaded = end
            if end < size and not conn.paused:
                self.upload_due = True
                self.driver.call_soon(self.upload, conn)
        if self._uploaded == size and not conn.paused and not self._upload_end:
            self._upload_end = self.driver.clock()

    def _upload_fields(self) -> dict[str, int]:
        """What ``client.response`` says of the body: ``upload_ns`` (send to the body's last
        byte handed to the socket), or ``uploaded`` (the body bytes handed to it) when the
        response ended first and the rest was not sent."""
        if not self._body:
            return {}
        if self._upload_end:
            return {"upload_ns": self._upload_end - self.busy_since}
        conn = self.conn
        buffered = conn.transport.get_write_buffer_size() if conn and conn.transport else 0
        return {"uploaded": max(0, self._uploaded - buffered)}

    # -- from the connection ----------------------------------------------------------------

    def connected(self, conn: _Connection) -> None:
        """The connection is open: write what waited for it."""
        if self._pending and conn.transport is not None and self.busy_since:
            self._pending = False
            self._write(conn)

    def data_received(self, data: bytes) -> None:
        """Bytes of the response in flight."""
        if not self.busy_since:
            # Bytes with no request out: the rest of a response longer than it declared, come
            # late. On a kept-alive connection they would be read as the next response's
            # start, so the connection goes (the next request opens a new one).
            self.close()
            return
        parser = self._parser
        now = interim = 0
        if not self.first:
            now = self.driver.clock()
            self._heard = self._heard or now
            interim = parser.interim
            if not parser.mid_head:
                self._head_at = now  # a head (interim or final) begins in this read
                self._arm_read_for()
        try:
            done = parser.feed(data)
        except ProtocolError as exc:
            self._fail(exc)
            return
        if not self.first:
            if parser.interim != interim:
                # An interim head ended: the read counts from the final response's first
                # byte, which this read holds if it brought more.
                self._head_at = now
                self._cancel_timer()
                if parser.mid_head or parser.started:
                    self._arm_read_for()
            if parser.started:
                # The final response's first byte: interim heads before it (100 Continue,
                # 103 Early Hints) are not the response the client waited for.
                self.first = self._head_at
        if done and parser.excess:
            # More than the response declared (a Content-Length below the body's length):
            # the response keeps its status and declared bytes, and the connection goes, as
            # curl drops it, so the stray bytes cannot be read as the next response's start.
            self._fail(
                ProtocolError(
                    f"{parser.excess} bytes past the end of the response "
                    f"(after its {parser.body_bytes} declared body bytes)"
                )
            )
        elif done:
            self._finish()
        elif (
            self._read_bytes is not None
            and parser.started
            and parser.body_bytes >= self._read_bytes
        ):
            self._stop_reading(READ_BYTES)

    def _arm_read_for(self) -> None:
        """``read_for`` runs from the first byte of the response (``_head_at``), not from the
        end of its head: read slowly (``read_rate``), the head alone can take longer."""
        if self._read_for is not None:
            self._cancel_timer()
            delay = self._read_for - (self.driver.clock() - self._head_at) / 1e9
            self._timer = self.driver.call_later(max(0.0, delay), self._read_for_over, self.req)

    def _read_for_over(self, req: int) -> None:
        if req == self.req and self.busy_since:
            self._stop_reading(READ_FOR)

    def _stop_reading(self, reason: str) -> None:
        """The client has read what it wanted of the response: it closes the connection (the
        server sees its client leave) and records the response with what came, closed on
        purpose (``client_closed``), not as an error."""
        parser = self._parser
        extra = {"client_closed": reason, **self._upload_fields()}
        if self._resent:
            extra.update(RESENT)
        self._cancel_timer()
        sent, self.busy_since = self.busy_since, 0
        conn, self.conn = self.conn, None
        if conn is not None and conn.transport is not None:
            conn.transport.abort()
        # Closed before the final head was whole (read slowly, the head alone can outlast
        # ``read_for``): the status is unknown and no body byte came; the first byte did.
        status = parser.status if parser.started else None
        self.driver.finished(
            self, self.req, sent, self.first or self._head_at, status, parser.body_bytes, **extra
        )

    def _cancel_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def connection_lost(self, exc: Exception | None) -> None:
        """The server closed the connection (the end of a read-until-close body, or an error)."""
        self.conn = None
        if not self.busy_since:
            return
        if self._parser.eof():
            self._finish()
        elif (
            self._reused
            and not self._heard
            and self._may_resend
            and self.driver.clock() - self.busy_since < STALE_WINDOW_NS
        ):
            # The server closed the kept-alive connection as the request went out on it
            # (uvicorn does after an app error): not this request's failure. Send it again
            # on a new connection, once, as HTTP clients do with a stale pooled connection,
            # and only when that is safe: an idempotent method, the close right away (later,
            # the app may have run the request and died on it: that is its failure to show).
            # The response says it was resent: the server may have seen it twice.
            self._resent = True
            self._open()
        elif self._parser.started:
            # The status and headers came, then the connection closed before the body's end
            # (an app that raised mid-body, fewer bytes than its content-length).
            why = f" ({exc})" if exc is not None else ""
            cut = self._parser.cut()
            self._fail(IncompleteResponse(f"connection closed mid-body after {cut}{why}"))
        else:
            self._fail(exc or ConnectionResetError("connection closed before the response"))

    # -- from the driver --------------------------------------------------------------------

    def connect_failed(self, exc: BaseException) -> None:
        """The connection could not be opened (refused, no server)."""
        self._pending = False
        self.conn = None
        self._fail(exc)

    def abort(self, exc: BaseException) -> None:
        """Give up on the request in flight (timeout)."""
        self._fail(exc)

    def close(self) -> None:
        """Close the connection, if open."""
        conn, self.conn = self.conn, None
        if conn is not None and conn.transport is not None:
            conn.transport.close()

    def _finish(self) -> None:
        parser = self._parser
        extra = self._upload_fields()
        if self._resent:
            extra.update(RESENT)
        self._cancel_timer()
        sent, self.busy_since = self.busy_since, 0
        if self._uploaded < len(self._body):
            # The response ended before the body was all handed over (the server answered
            # without reading it): the rest is not sent, and the connection, mid-request, is
            # reset, so the server need not read what is on its way, as it would after a close.
            conn, self.conn = self.conn, None
            if conn is not None and conn.transport is not None:
                conn.transport.abort()
        elif parser.close or not self.keepalive:
            self.close()
        self.driver.finished(
            self, self.req, sent, self.first, parser.status, parser.body_bytes, **extra
        )

    def _fail(self, exc: BaseException | None) -> None:
        self._cancel_timer()
        sent, self.busy_since = self.busy_since, 0
        conn, self.conn = self.conn, None
        if conn is not None and conn.transport is not None:
            conn.transport.abort()
        if sent:
            parser = self._parser
            # A response cut short (closed or timed out mid-body) is recorded with what came.
            started = parser.started
            self.driver.failed(
                self,
                self.req,
                sent,
                exc,
                status=parser.status if started else None,
                first=self.first,
                nbytes=parser.body_bytes if started else 0,
                **(RESENT if self._resent else {}),
            )

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
from tracer.client.sink import RESENT, IncompleteResponse

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

    __slots__ = ("slot", "transport")

    def __init__(self, slot: Http1Slot) -> None:
        self.slot = slot
        self.transport: asyncio.Transport | None = None

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

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection closed (``exc``: why, if it broke)."""
        if self.slot.conn is self:
            self.slot.connection_lost(exc)


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
        self._body = config.body
        self.method = config.method
        self._parser = ResponseParser(head=config.method == "HEAD")
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
        self._pending: bytes | None = None
        self._request = b""
        self._reused = False
        self._resent = False
        self._may_resend = config.method in IDEMPOTENT

    def submit(self, req: int, path: str) -> None:
        """Send one request; ``driver.finished`` is called when its response is complete."""
        self.req = req
        self.first = self._heard = self._head_at = 0
        self._resent = False
        self._parser.reset()
        data = b"".join(
            (self._prefix, path.encode("latin-1"), b" HTTP/1.1\r\n", self._header,
             str(req).encode("ascii"), b"\r\n", self._tail, self._body)
        )  # fmt: skip
        self.busy_since = self.driver.send(req, path, self.method, len(self._body))
        self._request = data
        conn = self.conn
        if conn is not None and conn.transport is not None and not conn.transport.is_closing():
            self._reused = True
            conn.transport.write(data)
            return
        self._open(data)

    def _open(self, data: bytes) -> None:
        """A new connection, ``data`` written as soon as it is open."""
        self._reused = False
        self._pending = data
        self.conn = _Connection(self)
        self.driver.connect(self.conn, self, self.host, self.port)

    # -- from the connection ----------------------------------------------------------------

    def connected(self, conn: _Connection) -> None:
        """The connection is open: write what waited for it."""
        if self._pending is not None and conn.transport is not None:
            conn.transport.write(self._pending)
            self._pending = None

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
        try:
            done = parser.feed(data)
        except ProtocolError as exc:
            self._fail(exc)
            return
        if not self.first:
            if parser.interim != interim:
                self._head_at = now  # the head after an interim one begins in this read
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
            self._open(self._request)
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
        self._pending = None
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
        sent, self.busy_since = self.busy_since, 0
        if parser.close or not self.keepalive:
            self.close()
        extra = RESENT if self._resent else {}
        self.driver.finished(
            self, self.req, sent, self.first, parser.status, parser.body_bytes, **extra
        )

    def _fail(self, exc: BaseException | None) -> None:
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

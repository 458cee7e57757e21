"""WebSocket sessions with the ``wsproto`` state machine on an asyncio Protocol.

One session per request: open a connection, upgrade (the id header rides on the handshake),
send ``ws_messages`` text messages one after another, each waiting for the server's reply, then
close. A server message is the reply to the message in flight only if it began after that
message went out (in a later read of the socket); one that could not be a reply (a welcome
sent with the handshake's answer, one past the last reply) is counted apart, as
``unprompted``. Subprotocols given in a ``Sec-WebSocket-Protocol`` header are offered
through the handshake, and the one the server chose is recorded as ``subprotocol``.
The session is one request in the recording: ``client.response`` carries status 101 (or the
rejection status), the TCP connect time as ``connect_ns``, the handshake time as ``ttfb_ns``,
the replies as ``messages`` with the median and the longest round trip (``rtt_median_ns``,
``rtt_max_ns``: a message's send to its reply's last frame), and the server's close code and
reason as ``close_code`` and ``close_reason``. The server's close is its answer, whatever
its code, unless the code says something broke (``tracer.ws_close.BROKEN_CLOSE_CODES``: 1011
internal error, 1002 protocol error...), which makes the session ``error:
"WebSocketClosedWithError"``; a 2xx/3xx answer to the upgrade (a server that does not speak
WebSocket there) is ``error: "UpgradeIgnored"``.
Imports only ``tracer.client``'s own modules, ``tracer.ws_close`` and wsproto.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Message,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from tracer.client.config import OWN_HEADERS, REQUEST_ID_HEADER, ClientConfig
from tracer.ws_close import BROKEN_CLOSE_CODES

UPGRADE_IGNORED = "UpgradeIgnored"
"""``client.response`` ``error`` of a session whose upgrade got a plain 2xx/3xx answer."""
CLOSED_WITH_ERROR = "WebSocketClosedWithError"
"""``client.response`` ``error`` of a session the server closed with a code that says
something broke (``BROKEN_CLOSE_CODES``: 1011 internal error, 1002 protocol error...)."""
SUBPROTOCOL_HEADER = "sec-websocket-protocol"
"""The header whose subprotocols the client offers through wsproto (which writes it)."""

if TYPE_CHECKING:
    from tracer.client.sink import Sink

__all__ = [
    "WsSlot",
    "UPGRADE_IGNORED",
    "CLOSED_WITH_ERROR",
    "BROKEN_CLOSE_CODES",
    "SUBPROTOCOL_HEADER",
    "offered_subprotocols",
]


def offered_subprotocols(headers: tuple[tuple[str, str], ...]) -> list[str]:
    """The subprotocols the ``Sec-WebSocket-Protocol`` headers among ``headers`` offer, in
    order (``"chat, superchat"``: both), without empty items or repeats."""
    offered: list[str] = []
    for name, value in headers:
        if name.lower() == SUBPROTOCOL_HEADER:
            for item in value.split(","):
                item = item.strip()
                if item and item not in offered:
                    offered.append(item)
    return offered


class _Session(asyncio.Protocol):
    """The connection of one WebSocket session."""

    def __init__(self, slot: WsSlot, req: int, path: str) -> None:
        self.slot = slot
        self.req = req
        self.path = path
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.transport: asyncio.Transport | None = None

    def send(self, event: object) -> None:
        """Write one wsproto event to the connection."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(self.ws.send(event))  # type: ignore[arg-type]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """The connection is open."""
        self.transport = transport  # type: ignore[assignment]
        if self.slot.session is not self:
            transport.close()
            return
        slot = self.slot
        slot.connected = slot.driver.clock()
        self.send(
            Request(
                host=slot.authority,
                target=self.path,
                extra_headers=[
                    (REQUEST_ID_HEADER.encode(), str(self.req).encode()),
                    *slot.extra_headers,
                ],
                # Offered through wsproto, which writes the header: it then takes the
                # server's choice (as a raw header, any choice was an unexpected one).
                subprotocols=slot.subprotocols,
            )
        )

    def data_received(self, data: bytes) -> None:
        """Bytes from the server."""
        if self.slot.session is not self:
            return
        self.slot.reads += 1
        try:
            self.ws.receive_data(data)
            for event in self.ws.events():
                self.slot.on_event(self, event)
        except (LocalProtocolError, RemoteProtocolError) as exc:
            self.slot.fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection closed (``exc``: why, if it broke)."""
        self.transport = None
        if self.slot.session is self:
            self.slot.lost(exc)


class WsSlot:
    """One WebSocket session at a time."""

    def __init__(self, driver: Sink, config: ClientConfig, host: str, port: int) -> None:
        self.driver = driver
        self.host = host
        self.port = port
        self.authority = f"{host}:{port}"
        self.messages = config.ws_messages or 0
        # wsproto writes the upgrade headers itself (host among them, and the subprotocols
        # offered).
        self.extra_headers = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in config.headers
            if k.lower() not in OWN_HEADERS and k.lower() != SUBPROTOCOL_HEADER
        ]
        self.subprotocols = offered_subprotocols(config.headers)
        """What the session offers in its handshake (the ``Sec-WebSocket-Protocol`` header's)."""
        self.session: _Session | None = None
        self.busy_since = 0
        self.result: tuple[int | None, int, str | None] = (None, 0, None)
        self.future: Any = None
        self.key: tuple[Any, ...] = ()
        self.req = 0
        self.first = 0
        self.status = 0
        self.nbytes = 0
        self.sent = 0
        """Messages sent in this session."""
        self.replies = 0
        """Server messages taken as the replies to those (one each at most)."""
        self.unprompted = 0
        """Server messages that could not be a reply: none was awaited when they began."""
        self.close_code: int | None = None
        """The code of the server's close frame, once it came."""
        self._reason = ""
        self.subprotocol: str | None = None
        """The subprotocol the server accepted the session with, if any."""
        self.connected = 0
        """Client clock reading when the TCP connection opened (0: not yet)."""
        self._sent_at = 0
        """Client clock reading when the session began (its ``client.send``)."""
        self._message_sent = 0
        """Client clock reading when the message in flight went out."""
        self._rtts: list[int] = []
        """Each reply's round trip (ns): its message's send to the reply's last frame."""
        self.reads = 0
        """Reads of the session's socket so far (which read a server message began in)."""
        self._sent_read = 0
        """The read whose handling sent the last message: bytes of that read or earlier were
        on their way before the message was, so they cannot be its reply."""
        self._message_read: int | None = None
        """The read the server message being received began in."""
        self._closing = False

    def submit(self, req: int, path: str) -> None:
        """Start one session."""
        self.req, self.first, self.status, self.nbytes = req, 0, 0, 0
        self.sent = self.replies = self.unprompted = self.reads = self._sent_read = 0
        self.close_code = self._message_read = self.subprotocol = None
        self._reason = ""
        self._closing = False
        self.connected = self._message_sent = 0
        self._rtts = []
        self.busy_since = self._sent_at = self.driver.send(req, path, "GET")  # a GET upgrade
        self.session = _Session(self, req, path)
        self.driver.connect(self.session, self, self.host, self.port)

    def on_event(self, session: _Session, event: object) -> None:
        """React to one wsproto event of the current session."""
        if isinstance(event, AcceptConnection):
            self.first = self.driver.clock()
            self.status = 101
            self.subprotocol = event.subprotocol
            self._next_message(session)
        elif isinstance(event, RejectConnection):
            self.first = self.first or self.driver.clock()
            self.status = event.status_code
            if not event.has_body:
                self.finish()
        elif isinstance(event, RejectData):
            self.nbytes += len(event.data)
            if event.body_finished:
                self.finish()
        elif isinstance(event, Message):
            data = event.data  # str for a text message: counted in its UTF-8 bytes, as sent
            self.nbytes += len(data.encode()) if isinstance(data, str) else len(data)
            if self._message_read is None:
                self._message_read = self.reads
            if event.message_finished:
                began, self._message_read = self._message_read, None
                if self.replies < self.sent and began > self._sent_read:
                    self.replies += 1
                    self._rtts.append(self.driver.clock() - self._message_sent)
                    self._next_message(session)
                else:
                    # It began before the message in flight went out (a welcome right after
                    # the accept), or none is in flight (a push, one after the last reply):
                    # taking it for a reply would send the next message, and the close, a
                    # reply too early, and the app's last send would meet a closed session.
                    self.unprompted += 1
        elif isinstance(event, Ping):
            session.send(event.response())
        elif isinstance(event, CloseConnection):
            self.close_code, self._reason = int(event.code), event.reason or ""
            if not self._closing:
                self._closing = True
                session.send(event.response())
            self.finish()

    def _next_message(self, session: _Session) -> None:
        if self.sent < self.messages:
            self.sent += 1
            self._sent_read = self.reads
            self._message_sent = self.driver.clock()
            session.send(TextMessage(data=f"message {self.sent}"))
        elif not self._closing:
            self._closing = True
            session.send(CloseConnection(code=1000))

    def lost(self, exc: Exception | None) -> None:
        """The connection closed: the end of the session, or its failure."""
        if self.status and (self._closing or self.status != 101):
            self.finish()
        else:
            self.fail(exc or ConnectionResetError("connection closed during the session"))

    def finish(self) -> None:
        """The session is over; report it once."""
        sent, self.busy_since = self.busy_since, 0
        session, self.session = self.session, None
        if session is not None and session.transport is not None:
            session.transport.close()
        if sent:
            extra = self._session_data()
            code = self.close_code
            if self.status != 101 and 0 < self.status < 400:
                # The server answered the upgrade as a plain request (a WSGI server, a route
                # without websocket): no session took place, which is a failure, not a reply.
                extra["error"] = UPGRADE_IGNORED
            elif self.status == 101 and code in BROKEN_CLOSE_CODES:
                # The server's close says the session broke (1011: the app failed; 1002: a
                # protocol error): a failure, as a 5xx is, whatever came before it. Any other
                # code (1008 policy, an app's 4000) is the app's answer, as a 4xx is.
                extra["error"] = CLOSED_WITH_ERROR
                extra["message"] = f"the server closed the session with code {code}" + (
                    f" ({self._reason})" if self._reason else ""
                )
            self.driver.finished(
                self, self.req, sent, self.first, self.status, self.nbytes, **extra
            )

    def fail(self, exc: BaseException | None) -> None:
        """The session broke (refused, reset, protocol error, timeout); once the handshake
        was answered, its status, the bytes and the replies that came are kept."""
        sent, self.busy_since = self.busy_since, 0
        session, self.session = self.session, None
        if session is not None and session.transport is not None:
            session.transport.abort()
        if sent:
            if self.status:
                self.driver.failed(
                    self, self.req, sent, exc, status=self.status, first=self.first,
                    nbytes=self.nbytes, **self._session_data(),
                )  # fmt: skip
            else:
                self.driver.failed(self, self.req, sent, exc)

    def _session_data(self) -> dict[str, Any]:
        """What ``client.response`` says of the session: its TCP connect time, the accepted
        subprotocol, replies and their round trips, unprompted messages, the server's close
        code and reason."""
        data: dict[str, Any] = {"messages": self.replies}
        if self.connected:
            data["connect_ns"] = self.connected - self._sent_at
        if self.subprotocol is not None:
            data["subprotocol"] = self.subprotocol
        rtts = self._rtts
        if rtts:
            ordered = sorted(rtts)
            # The middle one (the lower middle of an even count): a round trip that happened.
            data["rtt_median_ns"] = ordered[(len(ordered) - 1) // 2]
            data["rtt_max_ns"] = ordered[-1]
        if self.unprompted:
            data["unprompted"] = self.unprompted
        if self.close_code is not None:
            data["close_code"] = self.close_code
            if self._reason:
                data["close_reason"] = self._reason
        return data

    connect_failed = fail
    abort = fail

    def close(self) -> None:
        """Close the session's connection, if any."""
        session, self.session = self.session, None
        if session is not None and session.transport is not None:
            session.transport.close()

"""WebSocket sessions with the ``wsproto`` state machine on an asyncio Protocol.

One session per request: open a connection, upgrade (the id header rides on the handshake),
send ``ws_messages`` text messages one after another, each waiting for the server's reply, then
close. The session is one request in the recording: ``client.response`` carries status 101
(or the rejection status), the handshake time as ``ttfb_ns`` and the message count; a 2xx/3xx
answer to the upgrade (a server that does not speak WebSocket there) is also ``error:
"UpgradeIgnored"``.
Imports only ``tracer.client``'s own modules and wsproto.
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

UPGRADE_IGNORED = "UpgradeIgnored"
"""``client.response`` ``error`` of a session whose upgrade got a plain 2xx/3xx answer."""

if TYPE_CHECKING:
    from tracer.client.sink import Sink

__all__ = ["WsSlot", "UPGRADE_IGNORED"]


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
        self.send(
            Request(
                host=slot.authority,
                target=self.path,
                extra_headers=[
                    (REQUEST_ID_HEADER.encode(), str(self.req).encode()),
                    *slot.extra_headers,
                ],
            )
        )

    def data_received(self, data: bytes) -> None:
        """Bytes from the server."""
        if self.slot.session is not self:
            return
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
        # wsproto writes the upgrade headers itself (host among them).
        self.extra_headers = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in config.headers
            if k.lower() not in OWN_HEADERS
        ]
        self.session: _Session | None = None
        self.busy_since = 0
        self.result: tuple[int | None, int, str | None] = (None, 0, None)
        self.future: Any = None
        self.key: tuple[Any, ...] = ()
        self.req = 0
        self.first = 0
        self.status = 0
        self.nbytes = 0
        self.replies = 0
        self._closing = False

    def submit(self, req: int, path: str) -> None:
        """Start one session."""
        self.req, self.first, self.status, self.nbytes, self.replies = req, 0, 0, 0, 0
        self._closing = False
        self.busy_since = self.driver.send(req, path, "GET")  # the upgrade is a GET
        self.session = _Session(self, req, path)
        self.driver.connect(self.session, self, self.host, self.port)

    def on_event(self, session: _Session, event: object) -> None:
        """React to one wsproto event of the current session."""
        if isinstance(event, AcceptConnection):
            self.first = self.driver.clock()
            self.status = 101
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
            if event.message_finished:
                self.replies += 1
                self._next_message(session)
        elif isinstance(event, Ping):
            session.send(event.response())
        elif isinstance(event, CloseConnection):
            if not self._closing:
                self._closing = True
                session.send(event.response())
            self.finish()

    def _next_message(self, session: _Session) -> None:
        if self.replies < self.messages:
            session.send(TextMessage(data=f"message {self.replies + 1}"))
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
            extra: dict[str, Any] = {"messages": self.replies}
            if self.status != 101 and 0 < self.status < 400:
                # The server answered the upgrade as a plain request (a WSGI server, a route
                # without websocket): no session took place, which is a failure, not a reply.
                extra["error"] = UPGRADE_IGNORED
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
                    nbytes=self.nbytes, messages=self.replies,
                )  # fmt: skip
            else:
                self.driver.failed(self, self.req, sent, exc)

    connect_failed = fail
    abort = fail

    def close(self) -> None:
        """Close the session's connection, if any."""
        session, self.session = self.session, None
        if session is not None and session.transport is not None:
            session.transport.close()

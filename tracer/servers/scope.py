"""ASGI scopes and per-connection ``receive``/``send`` for the in-process loop models.

``HttpCycle`` and ``WebSocketCycle`` hold one connection's state (never the server's), as
uvicorn's ``RequestResponseCycle`` does: ``receive()`` yields the request body in 64 KiB
``http.request`` messages, then waits, and returns ``http.disconnect`` only once the response
is complete (or the client left); ``send()`` never suspends, since the in-process client reads
at once (no backpressure), and rejects messages out of protocol order with the same
``RuntimeError`` a real server raises, and a response start uvicorn could not write as uvicorn
does (``check_status``, ``check_headers``). While the server stops, ``receive()`` yields to the
loop before it returns ``http.disconnect``: an app calling it again and again after its
disconnect would otherwise hold the loop for good (uvicorn's ``receive`` never suspends then
either), and the stop could never cancel it. A websocket session the app closes with a code
that says it broke (``WebSocketCycle.broke``) is an error, as the network client judges one.
Imports only ``tracer.servers`` and ``tracer.ws_close``.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from tracer.servers import Request
from tracer.servers.environ import SERVER_ADDRESS, body_headers, client_address
from tracer.servers.waits import async_sleep
from tracer.ws_close import BROKEN_CLOSE_CODES

__all__ = [
    "BODY_CHUNK",
    "CLOSED_WITH_ERROR",
    "DROPPED_SESSION",
    "LOCAL_ONLY_CLOSE_CODES",
    "ClientDisconnected",
    "HttpCycle",
    "LocalProtocolError",
    "ScopeBuilder",
    "WebSocketCycle",
    "build_scope",
    "check_headers",
    "check_status",
    "subprotocols",
]

BODY_CHUNK = 65536
"""Request body bytes per ``http.request`` message (uvicorn reads 64 KiB at a time)."""

ASGI_VERSION = {"version": "3.0", "spec_version": "2.3"}

CLOSED_WITH_ERROR = "WebSocketClosedWithError"
"""The error of a session the app closed with a code that says it broke: the network client's
name for it (``tracer.client.websocket.CLOSED_WITH_ERROR``), so that a recording of the
``loop`` model counts the session as one under uvicorn does."""

DROPPED_SESSION = "ConnectionResetError"
"""The error of a session whose connection closed without a close frame while its client still
waited for a reply (``WebSocketCycle.dropped``): the network client's (``tracer.client.websocket``
fails the session so, the connection closed during it), so that a recording of the ``loop``
model counts the session as one under uvicorn does."""

LOCAL_ONLY_CLOSE_CODES = frozenset({1005, 1006, 1015})
"""Close codes no close frame may carry: uvicorn's wsproto sends 1000 for them."""

_KNOWN_CLOSE_CODES = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013})
"""The codes below 3000 a close frame may carry that the network client's wsproto knows; it
refuses a frame with any other below 3000 or one past 4999, and closes with 1002."""

# h11's field-name: an RFC 9110 token.
_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+")
# What no value may hold (a regex search is faster than three ``in`` tests).
_CONTROL = re.compile(rb"[\r\n\x00]")

# The statuses uvicorn can write: its status lines and phrases are tables of 100-599.
_STATUSES = frozenset(range(100, 600))


class LocalProtocolError(Exception):
    """A response header the server cannot write; h11's name for it, so that a recording of
    the ``loop`` model names the error as one of uvicorn does."""


class ClientDisconnected(OSError):
    """A websocket ``send`` after the client closed or left: uvicorn's name for it, an
    ``OSError`` as the ASGI spec asks of a send on a closed connection, so that a framework
    that catches it (Starlette turns it into ``WebSocketDisconnect``) ends as under uvicorn."""


def subprotocols(headers: Any) -> list[str]:
    """The subprotocols the client advertised in ``Sec-WebSocket-Protocol`` (``headers`` as
    a scope holds them), in order, as uvicorn's wsproto path lists them: every such header
    split at its commas, each piece stripped."""
    offered: list[str] = []
    for name, value in headers:
        if name == b"sec-websocket-protocol":
            offered.extend(piece.decode("latin-1").strip() for piece in value.split(b","))
    return offered


def _bytesify(value: Any) -> bytes:
    """A header name or value as h11 takes it: a str as ASCII (else ``UnicodeEncodeError``),
    another bytes-like object copied, anything else a ``TypeError``."""
    if isinstance(value, str):
        return value.encode("ascii")
    if isinstance(value, int):
        raise TypeError("expected bytes-like object, not int")
    return bytes(value)


def check_status(message: dict[str, Any]) -> int:
    """The status of an ``http.response.start``, or what uvicorn raises for one it cannot
    write: a ``KeyError`` for a missing ``status`` (``message["status"]``) and for one that is
    not a code of 100 to 599 (its table of status lines has no such key; ``"200"`` included)."""
    status = message["status"]
    if status not in _STATUSES:
        raise KeyError(status)
    return int(status)


def check_headers(headers: Any) -> None:
    """Raise what uvicorn's h11 path raises for response ``headers`` it cannot write.

    A name that is not a token, or a value holding CR, LF or NUL, is a ``LocalProtocolError``;
    a name or value that is neither bytes nor an ASCII str fails as h11's ``bytesify`` does (a
    str is taken as ASCII: uvicorn's h11 path sends one, which the checker still flags as
    ``HTTP-010``). h11's stricter whitespace rules for values (no leading or trailing space)
    are not modelled: uvicorn's httptools path and the other servers send such values.
    """
    token = _TOKEN.fullmatch
    control = _CONTROL.search
    for name, value in headers:
        if type(name) is not bytes:
            name = _bytesify(name)
        if type(value) is not bytes:
            value = _bytesify(value)
        if token(name) is None:
            raise LocalProtocolError(f"Illegal header name {name!r}")
        if control(value) is not None:
            raise LocalProtocolError(f"Illegal header value {value!r}")


def build_scope(
    request: Request,
    req: int,
    *,
    http_version: str = "1.1",
    state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``http`` (or ``websocket``) scope of ``request``; the id rides in ``extensions``."""
    path = unquote(request.path)
    scope: dict[str, Any] = {
        "type": "websocket" if request.websocket else "http",
        "asgi": dict(ASGI_VERSION),
        "http_version": http_version,
        "scheme": "ws" if request.websocket else "http",
        "path": path,
        "raw_path": request.path.encode("latin-1", "replace"),
        "query_string": request.query.encode("latin-1", "replace"),
        "root_path": "",
        "headers": [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in body_headers(request)
        ],
        "client": client_address(req),
        "server": SERVER_ADDRESS,
        "extensions": {"gateway_tracer": {"req": req}},
    }
    if request.websocket:
        scope["subprotocols"] = subprotocols(scope["headers"])
    else:
        scope["method"] = request.method.upper()
    if state is not None:
        scope["state"] = dict(state)  # each request gets a shallow copy, as uvicorn does
    return scope


class ScopeBuilder:
    """``build_scope`` with the parts that depend only on the (reused) ``Request`` cached."""

    def __init__(self, *, http_version: str = "1.1") -> None:
        self.http_version = http_version
        self._cache: dict[int, tuple[Request, dict[str, Any]]] = {}

    def __call__(self, request: Request, req: int, state: dict[str, Any] | None) -> dict[str, Any]:
        """A fresh scope for request ``req`` (every mutable part is the request's own)."""
        entry = self._cache.get(id(request))
        if entry is None or entry[0] is not request:
            if len(self._cache) > 4096:
                self._cache.clear()
            entry = (request, build_scope(request, 0, http_version=self.http_version))
            self._cache[id(request)] = entry
        template = entry[1]
        scope = template.copy()
        scope["asgi"] = template["asgi"].copy()
        scope["headers"] = template["headers"].copy()
        scope["client"] = client_address(req)
        scope["extensions"] = {"gateway_tracer": {"req": req}}
        if request.websocket:
            scope["subprotocols"] = template["subprotocols"].copy()
        if state is not None:
            scope["state"] = state.copy()
        return scope


class _Cycle:
    """State changes wake whoever waits inside ``receive()``.

    ``stopping`` is the server's: set once it stops (see ``_pause_if_stopping``).
    """

    def __init__(self, *, stopping: threading.Event | None = None) -> None:
        self._stopping = stopping
        self._changed: asyncio.Event | None = None
        self.status: int | None = None
        self.bytes_out = 0
        self.disconnected = False
        self.complete = False
        self.on_complete: Any = None
        """Called once when the client has its whole response."""

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def _wait_change(self) -> None:
        if self._changed is None:
            self._changed = asyncio.Event()
        await self._changed.wait()

    def _finish(self) -> None:
        if not self.complete:
            self.complete = True
            if self.on_complete is not None:
                self.on_complete()
        self._notify()

    def disconnect(self) -> None:
        """The client went away (timed out): pending and later ``receive()`` see a disconnect."""
        self.disconnected = True
        self._notify()

    async def _pause_if_stopping(self) -> None:
        """Yield to the loop once if the server is stopping. A disconnect is returned at once,
        as uvicorn returns it, so an app that ignores it and calls ``receive()`` again never
        suspends: its loop is held for good, the stop's cancellation never reaches the task,
        and the app went on recording its calls after the run. Yielding here lets the stop
        cancel it (the ``CancelledError`` comes out of this ``await``)."""
        if self._stopping is not None and self._stopping.is_set():
            await async_sleep(0)  # the real one: the app may have replaced asyncio.sleep


class HttpCycle(_Cycle):
    """One HTTP request/response on the loop.

    ``now`` (recording time, ns) dates a refused ``http.response.start``: see ``refused``.
    """

    def __init__(
        self,
        body: bytes,
        *,
        now: Callable[[], int] | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        super().__init__(stopping=stopping)
        self._body = body
        self._offset = 0
        self._body_done = False
        self._now = now
        self.started = False
        self.refused: Exception | None = None
        """What ``send`` raised into the app for an ``http.response.start`` it could not write
        (nothing went out: the response is still to start, so the client gets a 500 unless
        the app starts a valid one, as hypercorn allows)."""
        self.refused_t: int | None = None
        """When it did (``now``), if it did."""

    async def receive(self) -> dict[str, Any]:
        """Body chunks first; then wait for the response to complete; then a disconnect."""
        if not self._body_done and not self.disconnected:
            chunk = self._body[self._offset : self._offset + BODY_CHUNK]
            self._offset += len(chunk)
            self._body_done = self._offset >= len(self._body)
            return {"type": "http.request", "body": chunk, "more_body": not self._body_done}
        while not (self.complete or self.disconnected):
            await self._wait_change()
        await self._pause_if_stopping()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        """Take one response message; never suspends (the client reads at once)."""
        kind = message.get("type")
        if self.disconnected:
            return  # as uvicorn: sends after the client left are dropped
        if not self.started:
            if kind != "http.response.start":
                raise RuntimeError(
                    f"Expected ASGI message 'http.response.start', but got '{kind}'."
                )
            try:
                status = check_status(message)
                check_headers(message.get("headers", ()))
            except Exception as exc:
                # uvicorn's send raises so too, then resets the connection: the model answers
                # 500 instead, as hypercorn, granian and daphne do (docs/run.md).
                self.refused = exc
                self.refused_t = None if self._now is None else self._now()
                raise
            self.started = True
            self.status = status
        elif not self.complete:
            if kind != "http.response.body":
                raise RuntimeError(f"Expected ASGI message 'http.response.body', but got '{kind}'.")
            body = message.get("body", b"")
            if not isinstance(body, (bytes, bytearray, memoryview)):
                # uvicorn's transport.write raises so: the response is cut short.
                raise TypeError(f"The ASGI body must be bytes, not {type(body).__name__}.")
            self.bytes_out += len(body)
            if not message.get("more_body", False):
                self._finish()
        else:
            raise RuntimeError(
                f"Unexpected ASGI message '{kind}' sent, after response already completed."
            )


class WebSocketCycle(_Cycle):
    """One websocket session: connect, then ``messages`` ping-pong exchanges, then disconnect.

    The client is on the other side of the loop, as uvicorn's is on the other side of a
    socket: it sends its first message once the app accepted and one more for each reply it
    reads, and closes once it has them all (``messages`` 0: it closes as soon as the app
    accepted). What it sends arrives one loop turn later (``call_soon``, as a socket's data
    does), so a ``receive()`` for the next message suspends until then, as uvicorn's
    ``queue.get()`` does: a session is a step per message and sessions overlap. Only
    ``websocket.connect`` is there at once (uvicorn queues it before it starts the app).

    A server message is the reply to the client's message in flight only if the app sent it
    after that message went out, as ``tracer.client.websocket`` decides; one sent while no
    message was in flight (a welcome with the accept, a push past the last reply) is counted
    in ``unprompted`` and sends nothing. The ``websocket.disconnect`` codes and what ``send``
    raises once the session is over are those of uvicorn's wsproto implementation, and so is
    the close the client gets (``wire_close_code``). ``now`` (recording time, ns) dates the
    session's end for the client (``closed_t``).
    """

    def __init__(
        self,
        messages: int,
        *,
        now: Callable[[], int] | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        super().__init__(stopping=stopping)
        self._messages = messages
        self._now = now
        self._connected = False
        self._sent = 0
        """Messages the client sent that have arrived."""
        self._delivered = 0
        """Of those, the ones ``receive()`` returned."""
        self.accepted = False
        self.replies = 0
        """Server messages the client took as replies (one per message it sent, at most)."""
        self.unprompted = 0
        """Server messages sent while none of the client's was waiting for its reply."""
        self.close_code: int | None = None
        """The code of the app's ``websocket.close``, once it sent one."""
        self.heard_code: int | None = None
        """The code of the first ``websocket.disconnect`` ``receive()`` returned to the app."""
        self.client_closed = False
        """The client's close reached the server while the app ran, before any close of the
        app's: uvicorn's wsproto answers it at once with the same code (1000)."""
        self.closed_t: int | None = None
        """When the session ended for the client (``now``; None without it, or still open)."""
        self.last_call_t: int | None = None
        """When the app's last ``receive()`` or ``send()`` returned to it (``now``; None
        without it, or before its first): the last the model sees of the app before it
        returns."""
        self.bytes_in = 0
        """Bytes of the client's messages ``receive()`` returned (the shim's ``bytes_in``)."""
        self._app_closed = False
        self._disconnect_code: int | None = None
        """What ``websocket.disconnect`` says: set by whichever side ended the session first."""

    @property
    def wire_close_code(self) -> int | None:
        """The code of the close frame the client gets, as it records it (None: it gets none).

        For the app's close, the app's code, but 1000 for one no frame may carry, as uvicorn's
        wsproto writes it, and 1002 for one the network client refuses (1004, 2000, 5000: its
        wsproto fails the frame as a protocol error). For the client's own close, which came
        first, 1000: uvicorn answers it with its code whether or not the app ever reads the
        disconnect. None before the handshake was answered, and when the app returned (or
        raised) without a close before the client's came: uvicorn closes the connection
        without a close frame then.
        """
        if not self.accepted:
            return None
        code = self.close_code
        if code is None:
            return 1000 if self.client_closed else None
        if code in LOCAL_ONLY_CLOSE_CODES:
            return 1000
        if code in _KNOWN_CLOSE_CODES or 3000 <= code <= 4999:
            return code
        return 1002

    @property
    def dropped(self) -> bool:
        """Whether the client gets no close frame while it still waits for a reply: the app
        returned (or raised) after accepting, without a close, before the client had every
        reply it asks for and so before its close (``wire_close_code`` None). uvicorn closes
        the connection then, which the network client takes for a failure
        (``DROPPED_SESSION``); once it had them all, its close is on its way, and the closed
        connection is no failure for it. Asked once the app is done."""
        return (
            self.accepted
            and not self.disconnected
            and self.wire_close_code is None
            and self.replies < self._messages
        )

    @property
    def unsaid_close_code(self) -> int | None:
        """The close code the client got where the app's own messages say another or none
        (the app's close changed on the wire, or the client's close the app never read), else
        None. The shim records those messages, the earlier of the app's close and the
        disconnect it received; a recording of them alone would count the session under the
        wrong code, or not at all."""
        wire = self.wire_close_code
        said = self.close_code if self.close_code is not None else self.heard_code
        return None if wire is None or wire == said else wire

    @property
    def broke(self) -> bool:
        """Whether the app's close says the session broke (``BROKEN_CLOSE_CODES``), as the
        network client judges the frame: an error, as a 5xx is."""
        return self.wire_close_code in BROKEN_CLOSE_CODES

    def _end(self, code: int) -> None:
        """The session ends (``code``: what the app's ``receive()`` gets for it, the first
        end's, as uvicorn queues it)."""
        if self._disconnect_code is None:
            self._disconnect_code = code
            if self._now is not None:
                self.closed_t = self._now()
        self._finish()

    def disconnect(self) -> None:
        """The client left without a close frame (timed out): uvicorn's ``connection_lost``
        says 1005 once the handshake was answered, 1006 before."""
        if self._disconnect_code is None:
            self._disconnect_code = 1005 if self.accepted else 1006
        super().disconnect()

    async def receive(self) -> dict[str, Any]:
        """``websocket.connect``; each message once it arrived; disconnect once the client
        closed (after its last reply) or left, or the app closed. A message that arrived
        before the session ended comes before its disconnect, as in uvicorn's queue."""
        if not self._connected:
            self._connected = True
            self._called()
            return {"type": "websocket.connect"}
        while True:
            if self._delivered < self._sent:
                self._delivered += 1
                text = f"message {self._delivered}"
                self.bytes_in += len(text.encode())
                self._called()
                return {"type": "websocket.receive", "text": text}
            if self.complete or self.disconnected:
                break
            await self._wait_change()
        await self._pause_if_stopping()
        code = 1000 if self._disconnect_code is None else self._disconnect_code
        if self.heard_code is None:
            self.heard_code = code
        self._called()
        return {"type": "websocket.disconnect", "code": code}

    def _called(self) -> None:
        """A ``receive()`` or ``send()`` returns to the app now (``last_call_t``)."""
        if self._now is not None:
            self.last_call_t = self._now()

    def _client_turn(self) -> None:
        """The client read the accept or a reply: its next message (or its close) goes out
        and arrives on the loop's next turn."""
        asyncio.get_running_loop().call_soon(self._client_sends)

    def _client_sends(self) -> None:
        if self.complete or self.disconnected:
            return
        if self._sent < self._messages:
            self._sent += 1
            self._notify()
        else:
            self.client_closed = True  # the app is still running: its close would have ended it
            self._end(1000)  # the client got its replies and closes normally

    async def send(self, message: dict[str, Any]) -> None:
        """Accept, messages, close; out-of-order messages raise as in uvicorn: a
        ``RuntimeError`` after the app's own close, ``ClientDisconnected`` once the client
        closed or left (Starlette turns it into ``WebSocketDisconnect``). Never suspends."""
        try:
            self._take(message)
        finally:
            self._called()

    def _take(self, message: dict[str, Any]) -> None:
        """What ``send`` does with ``message``."""
        kind = message.get("type")
        if self._app_closed:
            raise RuntimeError(
                f"Unexpected ASGI message '{kind}', after sending 'websocket.close'."
            )
        if self.complete or self.disconnected:
            raise ClientDisconnected()
        if not self.accepted:
            if kind == "websocket.accept":
                self.accepted = True
                self.status = 101
                self._client_turn()
            elif kind == "websocket.close":
                self.status = 403  # closed before accepting: the handshake is refused
                self._app_closed = True
                self._end(1006)  # uvicorn queues 1006 for it: no socket ever opened
            else:
                raise RuntimeError(
                    f"Expected ASGI message 'websocket.accept' or 'websocket.close', but got '{kind}'."
                )
        elif kind == "websocket.send":
            data = message.get("bytes") or (message.get("text") or "").encode()
            self.bytes_out += len(data)
            if self.replies < self._sent:
                self.replies += 1
                self._client_turn()  # the reply the client waited for: it sends its next one
            else:
                self.unprompted += 1  # no message of the client's awaits it: it sends nothing
        elif kind == "websocket.close":
            self.close_code = int(message.get("code", 1000))
            self._app_closed = True
            self._end(self.close_code)
        else:
            raise RuntimeError(
                f"Expected ASGI message 'websocket.send' or 'websocket.close', but got '{kind}'."
            )
        self._notify()

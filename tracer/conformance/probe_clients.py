"""How ``trace check`` plays one probe, as the server and the client at once.

WSGI: ``serve_wsgi`` is a PEP 3333 server for one request. ASGI: ``drive_http`` and
``drive_websocket`` hand the app a scope, ``receive`` and ``send`` that behave as uvicorn's do
for a client that behaves as a real one does: it waits for the answer it is owed, and leaves a
response that does not end (an endless stream, a handshake never answered) at half the
timeout. ``run_app`` awaits the app, bounded. Imports the spine and this package only.
"""

from __future__ import annotations

import time

# Bound now, before the app is imported: an app that replaces ``asyncio.wait_for`` (or
# ``asyncio.Event``) at import must not change how long the check's client waits.
from asyncio import (
    CancelledError,
    Event,
    TimerHandle,
    current_task,
    get_running_loop,
    timeout_at,
    wait_for,
)
from collections.abc import Callable
from typing import Any

from tracer.conformance.closes import CloseWatch
from tracer.conformance.probes import WS_BYTES, WS_TEXT, Probe, make_scope
from tracer.conformance.schema import is_int

__all__ = [
    "LEAVE_AFTER_CHUNKS",
    "REPLY_WAIT",
    "ClientLeft",
    "WebSocketClient",
    "drive_http",
    "drive_websocket",
    "run_app",
    "serve_wsgi",
]

# An endless stream (server-sent events, long-poll) ends only when its client leaves. The check's
# client leaves a streaming response after this many body chunks, or at half the timeout: the
# app then has the other half to notice (ASGI: http.disconnect; WSGI: close()) and end.
LEAVE_AFTER_CHUNKS = 100

REPLY_WAIT = 0.2
"""How long (seconds) the websocket probe's client waits for a reply to its message before it
closes; an app that answers sooner is closed on at once. docs/rules.md (``rulesdoc``) says
this number too."""


# -- WSGI ---------------------------------------------------------------------------------------


def serve_wsgi(app: Any, environ: dict[str, Any], timeout: float, watch: CloseWatch) -> None:
    """Be a PEP 3333 server for one request: start_response, write, iterate, close; leave
    (stop iterating, then close) an endless body as a client would. ``watch`` follows the
    iterables inside the app meanwhile (a middleware must close its inner app's)."""
    watch.start()
    try:
        _serve(app, environ, timeout)
    finally:
        watch.stop()


def _serve(app: Any, environ: dict[str, Any], timeout: float) -> None:
    leave_at = time.monotonic() + timeout / 2
    sent = False

    def write(data: bytes) -> None:
        nonlocal sent
        sent = sent or bool(data)

    def start_response(status: str, headers: list[Any], exc_info: Any = None) -> Any:
        if exc_info is not None and sent:
            raise exc_info[1].with_traceback(exc_info[2])
        return write

    # BaseException: an app raising SystemExit or KeyboardInterrupt is data too (the shim
    # records it); on this worker thread it printed "Exception in thread trace-check".
    try:
        result = app(environ, start_response)
    except BaseException:
        return  # recorded by the shim as an error event
    try:
        for count, item in enumerate(result, 1):
            write(item)
            if count >= LEAVE_AFTER_CHUNKS or time.monotonic() >= leave_at:
                break  # the client left; close() tells the app
    except BaseException:
        pass
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            try:
                close()
            except BaseException:
                pass


# -- ASGI http ----------------------------------------------------------------------------------


class ClientLeft(OSError):
    """What a send raises once the check's client left a streaming response, or closed its
    websocket connection: the scope says ASGI spec 2.4, which promises an OSError there
    (Starlette's StreamingResponse relies on it alone, never listening for http.disconnect,
    so without it a stream would run on)."""


async def drive_http(
    app: Any,
    probe: Probe,
    timeout: float,
    raised: list[BaseException],
    state: dict[str, Any],
    left: list[ClientLeft],
) -> tuple[bool, str | None]:
    """Drive one http request; return (timed out, why skipped). A body sent after the client
    left raises ``ClientLeft``, which goes in ``left`` too."""
    chunks = list(probe.chunks) or [b""]
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    loop = get_running_loop()
    leave_at = loop.time() + timeout / 2
    gone = Event()  # the response is complete, or the client left a stream
    leaving: list[TimerHandle] = []
    sent = 0
    complete = False
    trailing = False  # trailers announced to a client that reads them: they end the response

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await gone.wait()  # the client stays until the response is complete, or it leaves
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        nonlocal sent, complete, trailing
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "http.response.body" and gone.is_set() and not complete:
            error = ClientLeft("the client left the response")
            left.append(error)
            raise error
        if kind == "http.response.start" and not leaving:
            leaving.append(loop.call_at(max(leave_at, loop.time()), gone.set))
            # Announced trailers the client reads end the response, not the last body.
            trailing = probe.trailers and message.get("trailers", False) is True
        elif kind == "http.response.body" and message.get("more_body", False):
            sent += 1
            if sent >= LEAVE_AFTER_CHUNKS:
                gone.set()
        if (
            (kind == "http.response.body" and not message.get("more_body", False) and not trailing)
            or (kind == "http.response.trailers" and not message.get("more_trailers", False))
            or kind == "http.response.pathsend"
        ):
            complete = True
            gone.set()

    try:
        return await run_app(app(make_scope(probe, state), receive, send), timeout, raised), None
    finally:
        for handle in leaving:
            handle.cancel()


# -- ASGI websocket -----------------------------------------------------------------------------


class WebSocketClient:
    """The websocket probe's connection as the app sees it: ``receive`` and ``send``.

    ``websocket.connect`` first; then, as uvicorn does (the ASGI spec: the connect "must be
    responded to with either an Accept message or a Close message before the socket will pass
    websocket.receive messages"), nothing more until the app answered the handshake with
    ``websocket.accept``, ``websocket.close`` or a complete denial response. An app whose
    reader task calls ``receive`` before it accepts waits there, as on a server, instead of
    seeing the client gone before it could accept.

    Accepted, the client sends one text message (``WS_TEXT``; ``binary``: a binary one,
    ``WS_BYTES``), then closes (``websocket.disconnect``, 1000) once the app replied to it or
    after ``REPLY_WAIT`` without a reply, as a client waiting for its echo does. Its close
    reaches the server as soon as the app lets the loop run after its reply: a send after
    that raises ``ClientLeft`` (in ``left``), as uvicorn's does on a closed connection (ASGI
    spec 2.4); a close sent in the same step as the reply is the app's, as on a server. After
    the app's close or denial, ``receive`` says the client is gone; a handshake not answered
    by ``leave_at`` (the loop's clock) is given up on (1006).
    """

    def __init__(
        self, leave_at: float, reply_wait: float = REPLY_WAIT, *, binary: bool = False
    ) -> None:
        self.leave_at = leave_at
        self.reply_wait = reply_wait
        self.binary = binary
        self._closed_after_message: int | None = None  # the app's close code, if it came then
        self._received_after_message = False
        self.first: str | None = None
        """The type of the app's first message (``"None"`` for one that has none)."""
        self.received = 0
        """How many times the app called ``receive``."""
        self._connected = False
        self._answered = False  # accept, close or a complete denial
        self._accepted = False
        self._close_code: int | None = None  # the app's close (1006: its denial)
        self._delivered_at: float | None = None  # when the message went to the app
        self._replied = False
        self._changed = Event()
        self._gone = False  # the client closed the connection: sends raise ClientLeft
        self.left: list[ClientLeft] = []
        """What the app's sends on the closed connection raised."""

    async def receive(self) -> dict[str, Any]:
        """The server's ``receive``: connect, then (once answered) the message, then disconnect."""
        self.received += 1
        if not self._connected:
            self._connected = True
            return {"type": "websocket.connect"}
        if not await self._until(lambda: self._answered, self.leave_at):
            return {"type": "websocket.disconnect", "code": 1006}  # the client gave up
        if self._close_code is not None:
            return {"type": "websocket.disconnect", "code": self._close_code}
        loop = get_running_loop()
        if self._delivered_at is None:
            self._delivered_at = loop.time()
            if self.binary:
                return {"type": "websocket.receive", "bytes": WS_BYTES}
            return {"type": "websocket.receive", "text": WS_TEXT}
        self._received_after_message = True
        deadline = min(self._delivered_at + self.reply_wait, self.leave_at)
        await self._until(lambda: self._gone or self._close_code is not None, deadline)
        if self._close_code is None:
            self._gone = True  # the client closes: its close after the reply came, or no reply
            return {"type": "websocket.disconnect", "code": 1000}
        return {"type": "websocket.disconnect", "code": self._close_code}

    async def send(self, message: Any) -> None:
        """The server's ``send``: notes what the app said; the checker judges it."""
        kind = message.get("type") if isinstance(message, dict) else None
        if self.first is None:
            self.first = str(kind)
        if self._gone:
            error = ClientLeft("the client closed the connection")
            self.left.append(error)
            raise error
        if kind == "websocket.accept" and not self._answered:
            self._answered = self._accepted = True
        elif kind == "websocket.close" and self._close_code is None:
            code = message.get("code", 1000)
            # An IntEnum code goes on the wire as its number (uvicorn, hypercorn).
            self._close_code = int(code) if is_int(code) else 1000
            self._answered = True
            if self._delivered_at is not None:
                self._closed_after_message = self._close_code
        elif (
            kind == "websocket.http.response.body"
            and not self._accepted
            and not message.get("more_body", False)
        ):
            self._close_code = 1006  # the denial is the whole exchange: no socket ever opened
            self._answered = True
        elif kind == "websocket.send" and self._delivered_at is not None and not self._replied:
            self._replied = True
            # The client closes on the reply; its close frame is read when the loop runs next.
            get_running_loop().call_soon(self._leave)
        self._changed.set()

    def _leave(self) -> None:
        """The client's close after the reply reached the server (unless the app closed)."""
        if self._close_code is None:
            self._gone = True
            self._changed.set()

    async def _until(self, ready: Callable[[], bool], deadline: float) -> bool:
        """Wait until ``ready()`` (re-read after each message the app sends) or ``deadline``."""
        loop = get_running_loop()
        while not ready():
            left = deadline - loop.time()
            if left <= 0:
                return False
            self._changed.clear()
            # timeout_at, not wait_for: a receive the app cancels (its reader task stopped)
            # ends cancelled even when the client's message came in the same step; on 3.11
            # wait_for returned the message then, which no server's receive does.
            try:
                async with timeout_at(deadline):
                    await self._changed.wait()
            except TimeoutError:
                return ready()
        return True

    def refusal(self, raised: BaseException | None) -> str | None:
        """How the app refused the message it was sent, or None: it closed with 1003
        (unsupported data) or 1007 (invalid payload) before any reply, or it raised
        (``raised``) on it, before any reply and before receiving again."""
        if self._delivered_at is None or self._replied:
            return None
        if self._closed_after_message in _REFUSING_CODES:
            return f"closed the connection with {self._closed_after_message}"
        if raised is not None and not self._received_after_message:
            return "raised"
        return None

    def skip_reason(self, *, http_answer_judged: bool = False) -> str | None:
        """Why the probe does not apply: the app never looked at the connection, or answered
        it as HTTP (an HTTP-only app; not with ``http_answer_judged``: a framework that routes
        websocket scopes answered it so)."""
        answered_as_http = self.first is not None and self.first.startswith("http.")
        if (self.first is None and not self.received) or (
            answered_as_http and not http_answer_judged
        ):
            return "the app does not handle websocket scopes"
        return None


_REFUSING_CODES = (1003, 1007)
"""Close codes that say "not this kind of message" (RFC 6455 7.4.1): unsupported data, invalid
payload. Starlette's ``WebSocketEndpoint`` closes with 1003 on a frame of the other kind."""


async def drive_websocket(
    app: Any,
    probe: Probe,
    timeout: float,
    raised: list[BaseException],
    state: dict[str, Any],
    *,
    binary: bool = False,
    refused: list[str] | None = None,
    left: list[ClientLeft] | None = None,
) -> tuple[bool, str | None]:
    """Drive a websocket session (``WebSocketClient``); return (timed out, why skipped).
    ``binary`` sends the binary message instead of the text one; ``refused`` gets how the app
    refused the message, if it did (``WebSocketClient.refusal``); ``left`` what its sends
    after the client closed raised."""
    client = WebSocketClient(get_running_loop().time() + timeout / 2, binary=binary)
    scope = make_scope(probe, state)
    failed: list[Exception] = []

    async def session() -> None:
        try:
            await app(scope, client.receive, client.send)
        except Exception as exc:
            failed.append(exc)
            raise

    timed_out = await run_app(session(), timeout, raised)
    refusal = client.refusal(failed[0] if failed else None)
    if refusal is not None and refused is not None and not timed_out:
        refused.append(refusal)
    if left is not None:
        left.extend(client.left)
    return timed_out, client.skip_reason(http_answer_judged=probe.http_answer_judged)


# -- awaiting the app ---------------------------------------------------------------------------


async def run_app(coro: Any, timeout: float, raised: list[BaseException]) -> bool:
    """Await the app; True if it timed out (it is then cancelled) or ended past the timeout.
    An app that raised ``CancelledError`` itself ended: that exception goes in ``raised``.

    A handler that blocks the loop ends its request within the step that blocks, and the
    timeout (a callback on that loop) cannot fire before: the clock says it was late.
    """
    loop = get_running_loop()
    began = loop.time()
    try:
        await wait_for(_contained(coro, raised), timeout)
    except TimeoutError:
        return True
    except Exception:
        pass  # recorded by the shim as an error event
    return loop.time() - began > timeout


async def _contained(coro: Any, raised: list[BaseException]) -> None:
    """Await the app, keeping its SystemExit or KeyboardInterrupt inside this task: asyncio
    re-raises those out of the event loop itself, which would end every probe after it.

    A ``CancelledError`` while nobody cancelled this task is the app's own ``raise``: it goes
    in ``raised`` and is kept here, or ``wait_for`` would pass it on as if the timeout (or
    the caller) had cancelled the probe.
    """
    try:
        await coro
    except (SystemExit, KeyboardInterrupt):
        pass  # the app's error, recorded by the shim as an error event
    except CancelledError as exc:
        task = current_task()
        if task is not None and task.cancelling():
            raise  # the timeout (or the caller) cancelled the probe
        raised.append(exc)

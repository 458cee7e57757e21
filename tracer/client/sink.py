"""``Sink``: what slots report to — it records each exchange and keeps the client's stats.

A slot (one HTTP/1.1 connection, one HTTP/2 stream, one WebSocket session) calls ``send`` when a
request leaves, then ``finished`` or ``failed``; the sink records ``client.send`` and
``request.queued`` at send and ``client.response`` at the end, then hands the slot to ``after``
(the ``Driver`` paces the next request, the ``Pool`` wakes the awaiting caller).
Everything runs on one event loop thread. Imports only the spine, ``tracer.redact`` and the
client's config.
"""

from __future__ import annotations

import asyncio
import threading
import time

# Bound now, before any app is imported: the connections are opened however an app that
# shares the process has replaced these.
from asyncio import ensure_future, get_running_loop
from collections.abc import Callable
from typing import Any, Protocol

from tracer import events as K
from tracer.client.config import ClientConfig, ClientStats
from tracer.recorder import Recorder
from tracer.redact import redact_target

__all__ = [
    "Sink", "Slot", "IncompleteResponse", "StreamReset", "RESENT", "READ_FOR", "READ_BYTES",
    "STOPPED", "timeout_error",
]  # fmt: skip

RESENT = {"resent": True}
"""What ``client.response`` adds for a request sent again on a new connection."""
READ_FOR = "read-for"
READ_BYTES = "read-bytes"
"""``client.response``'s ``client_closed``: the client stopped reading the response on
purpose, its ``read_for`` over or its ``read_bytes`` in (not an error)."""
STOPPED = "cancelled"
"""``client.response``'s ``error`` for a request the run's stop cancelled (the caller's task
was cancelled): the stop's doing, named as the servers name its end, not an exception the
app or the connection met."""


class IncompleteResponse(ConnectionError):
    """The response started (its status and headers arrived), then the connection or the
    stream ended before the response did: ``client.response`` keeps the status, the time to
    the first byte and the bytes that came, with this as its ``error``."""


class StreamReset(ConnectionResetError):
    """The server reset the HTTP/2 stream (RST_STREAM) before its response started: the
    ``client.response`` has no status, this as its ``error`` and the reset's error code in its
    ``message``; the connection and its other streams go on."""


def timeout_error(seconds: float) -> TimeoutError:
    """What a request the client gave up on fails with (with or without a response started:
    ``client.response`` then says how much of it came)."""
    return TimeoutError(f"no complete response within {seconds:g}s")


class Slot(Protocol):
    """Carries one request at a time to the server."""

    busy_since: int
    """Client clock (ns) when the request in flight was sent; 0 when idle."""

    def submit(self, req: int, path: str) -> None:
        """Start one request; later the sink's ``finished`` or ``failed`` is called."""

    def abort(self, exc: BaseException) -> None:
        """Give up on the request in flight."""

    def close(self) -> None:
        """Close whatever connection the slot holds."""


class Sink:
    """Records exchanges into ``recorder`` (optional) and counts them in ``stats``."""

    def __init__(
        self,
        host: str,
        port: int,
        config: ClientConfig,
        *,
        recorder: Recorder | None = None,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.host = host
        self.port = port
        self.config = config
        self.recorder = recorder
        self.clock = clock
        self.stats = ClientStats()
        self._origin = recorder.start_ns if recorder is not None else 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tid = 0
        self._thread = ""
        self._last = 0

    def bind(self) -> asyncio.AbstractEventLoop:
        """Attach to the running loop and its thread (the thread of every client event)."""
        self._loop = get_running_loop()
        current = threading.current_thread()
        self._tid, self._thread = current.ident or 0, current.name
        return self._loop

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> Any:
        """``callback(*args)`` in ``delay`` seconds on the client's loop (a cancellable
        handle)."""
        loop = self._loop or get_running_loop()
        return loop.call_later(delay, callback, *args)

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> None:
        """``callback(*args)`` on the client's loop's next turn."""
        (self._loop or get_running_loop()).call_soon(callback, *args)

    def after(self, slot: Any, ok: bool) -> None:
        """Called once an exchange is over (``ok``: a complete response came back)."""

    def connect(self, protocol: asyncio.BaseProtocol, slot: Any, host: str, port: int) -> None:
        """Open a TCP connection for ``slot``; ``slot.connect_failed(exc)`` if it cannot."""
        loop = self._loop or get_running_loop()
        self.stats.connections += 1
        future = ensure_future(loop.create_connection(lambda: protocol, host, port), loop=loop)

        def done(task: asyncio.Future[Any]) -> None:
            if task.cancelled():
                return
            exc = task.exception()
            if exc is not None:
                slot.connect_failed(exc)

        future.add_done_callback(done)

    def send(self, req: int, path: str, method: str | None = None, body: int = 0) -> int:
        """A request leaves now: record it (``method``: the slot's own, ``body``: the bytes of
        its body; ``path``, the target as sent, is recorded with its secret-looking query
        values redacted unless ``config.redact`` is off); returns the client clock reading."""
        now = self.clock()
        self.stats.sent += 1
        recorder = self.recorder
        if recorder is not None:
            t = now - self._origin
            if self.config.redact:
                path = redact_target(path)
            data = {"method": method or self.config.method, "path": path}
            sent = {**data, "bytes": body}
            recorder.emit(K.CLIENT_SEND, req, sent, t=t, tid=self._tid, thread=self._thread)
            recorder.emit(K.REQUEST_QUEUED, req, data, t=t, tid=self._tid, thread=self._thread)
        return now

    def finished(
        self,
        slot: Any,
        req: int,
        sent: int,
        first: int,
        status: int | None,
        nbytes: int,
        **extra: Any,
    ) -> None:
        """The response to ``req`` arrived in full (``first``: when its first byte came), or
        as much of it as the client chose to read (a ``client_closed`` among ``extra``;
        ``status`` None: it closed before the head was whole).

        An ``error`` among ``extra`` (a WebSocket upgrade answered as a plain request) makes
        the exchange a failure with that status: it is counted and returned as an error.
        """
        end = self._last = self.clock()
        first = first or end
        error = extra.get("error")
        stats = self.stats
        if status is not None:
            stats.status[status] += 1
        if error is None:
            stats.completed += 1
            stats.latencies_ns.append(end - sent)
            stats.ttfb_ns.append(first - sent)
            if "client_closed" in extra:
                stats.closed += 1
        else:
            stats.errors += 1
            stats.error_types[error] += 1
        recorder = self.recorder
        if recorder is not None:
            data = {
                "status": status,
                "ttfb_ns": first - sent,
                "total_ns": end - sent,
                "bytes": nbytes,
                **extra,
            }
            recorder.emit(
                K.CLIENT_RESPONSE,
                req,
                data,
                t=first - self._origin,
                dur=end - first,
                tid=self._tid,
                thread=self._thread,
            )
        slot.result = (status, nbytes, error)
        self.after(slot, True)

    def failed(
        self,
        slot: Any,
        req: int,
        sent: int,
        exc: BaseException | None,
        *,
        status: int | None = None,
        first: int = 0,
        nbytes: int = 0,
        **extra: Any,
    ) -> None:
        """``req`` got no complete response: refused, reset, timed out or malformed.

        ``status`` (with ``first``, when its first byte came, and ``nbytes``, the body bytes
        that came): the response had started when it was cut; it is recorded with what
        arrived, so the run counts an error with the status the server sent.
        """
        end = self._last = self.clock()
        if isinstance(exc, asyncio.CancelledError):
            name = STOPPED
        else:
            name = type(exc).__name__ if exc is not None else "ConnectionError"
        self.stats.errors += 1
        self.stats.error_types[name] += 1
        if not status:
            status, nbytes = None, 0
        if self.recorder is not None:
            message = str(exc or "")
            if status is not None:
                first = first or end
                data = {
                    "status": status,
                    "ttfb_ns": first - sent,
                    "total_ns": end - sent,
                    "bytes": nbytes,
                    "error": name,
                    "message": message,
                    **extra,
                }
                t, dur = first - self._origin, end - first
            else:
                data = {
                    "status": None,
                    "error": name,
                    "message": message,
                    "total_ns": end - sent,
                    **extra,
                }
                t, dur = end - self._origin, None
            self.recorder.emit(
                K.CLIENT_RESPONSE, req, data, t=t, dur=dur, tid=self._tid, thread=self._thread
            )
        slot.result = (status, nbytes, name)
        self.after(slot, False)

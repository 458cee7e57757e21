"""Simulated happenings as recording events, shaped like a real run's for the same model.

The models call these methods only when a recording is wanted; the stats-only path skips them
entirely (``emitter is None``), which is what keeps 100,000 requests within seconds.
Every event carries an explicit virtual time ``t`` and the synthetic identity of the simulated
thread (``pid``, ``tid``, ``thread``) and asyncio ``task``.
Imports only ``tracer.events`` and ``tracer.recorder`` (and ``sim`` modules for types).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import tracer.events as K
from tracer.recorder import Recorder

if TYPE_CHECKING:
    from sim.arrivals import Request
    from sim.workers import Worker

__all__ = ["Emitter", "RESPONSE_HEADERS", "WS_STATUS"]

RESPONSE_HEADERS: list[list[str]] = [["content-type", "text/plain"]]
"""What every simulated response says about itself."""

# Data that is the same for every request, made once (events are read-only once recorded).
_RECEIVE: dict[str, Any] = {"type": "http.request", "bytes": 0, "more_body": False}
_RESPONSE_START: dict[str, Any] = {
    "type": "http.response.start",
    "status": 200,
    "bytes": None,
    "more_body": None,
}
_START_RESPONSE: dict[str, Any] = {
    "status": "200 OK",
    "headers": RESPONSE_HEADERS,
    "exc_info": None,
}
_NO_DATA: dict[str, Any] = {}
# A WebSocket session's messages, as the ASGI shim records them (``bytes`` is a message's size).
_WS_CONNECT: dict[str, Any] = {"type": "websocket.connect", "bytes": None, "more_body": None}
_WS_ACCEPT: dict[str, Any] = {
    "type": "websocket.accept",
    "status": None,
    "bytes": None,
    "more_body": None,
}
_WS_DISCONNECT: dict[str, Any] = {
    "type": "websocket.disconnect",
    "bytes": None,
    "more_body": None,
    "code": 1000,
}
WS_STATUS = 101
"""``request.end`` status of an accepted WebSocket session (the shim's, and the client's)."""


_DRAIN_EVERY = 1024
"""Requests ended between two looks at the recorder's queue."""
_DRAIN_BACKLOG = 50_000
"""Queued events past which the simulation drains the recorder itself (to its file, when it
streams; an in-memory recorder keeps them all the same)."""


class Emitter:
    """Turns model callbacks into ``Recorder.emit`` calls with explicit time and identity."""

    def __init__(self, recorder: Recorder, *, interface: str) -> None:
        self.recorder = recorder
        self.interface = interface
        self._emit = recorder.emit
        self.count = 0
        """How many events were emitted."""
        self.ended = 0
        # Per-route data dicts are shared between requests: events are read-only once made.
        self._queued_data: dict[str, dict[str, Any]] = {}
        self._start_data: dict[str, dict[str, Any]] = {}

    def _route_data(self, req: Request) -> tuple[dict[str, Any], dict[str, Any]]:
        route = req.route
        queued = self._queued_data.get(route.name)
        if queued is None:
            # The client's request line says GET for a WebSocket upgrade too; the app's
            # websocket scope has no method. As the in-process models, the queued request's
            # path is the target's without its query; the request's path is what the shims
            # record of what a server makes of the target: percent-decoded as UTF-8 text (the
            # WSGI shim reads PATH_INFO's latin-1 bytes back as UTF-8), the query apart, as sent.
            target, _, query = route.path.partition("?")
            queued = {"method": route.method, "path": target}
            self._queued_data[route.name] = queued
            ws = route.websocket
            self._start_data[route.name] = {
                "method": None if ws else route.method,
                "path": unquote(target),
                "query": query,
                "http_version": "1.1",
                "scheme": "ws" if ws else "http",
                "client": None,  # no sockets: neither end has an address
                "server": None,
                "interface": self.interface,
                "scope_type": "websocket" if ws else "http",
                "headers": [],
            }
            if self.interface == "asgi":
                self._start_data[route.name]["asgi_version"] = "3.0"
        return queued, self._start_data[route.name]

    def _put(
        self,
        kind: str,
        req: Request,
        data: dict[str, Any],
        w: Worker,
        t: int,
        dur: int | None = None,
        task: str | None = None,
    ) -> None:
        # One event at virtual time ``t`` on simulated thread ``w``.
        self.count += 1
        self._emit(kind, req.id, data, t=t, dur=dur, tid=w.tid, thread=w.name, pid=w.pid, task=task)

    def queued(self, req: Request, w: Worker) -> None:
        """The request arrived (``request.queued``)."""
        self._put(K.REQUEST_QUEUED, req, self._route_data(req)[0], w, req.queued)

    def start(self, req: Request, w: Worker, task: str | None = None) -> None:
        """The app is invoked (``request.start``)."""
        self._put(K.REQUEST_START, req, self._route_data(req)[1], w, req.started, task=task)

    def receive(self, req: Request, w: Worker, t: int, task: str | None) -> None:
        """The app's first ``asgi.receive``, returned at once: the (empty) request body, or a
        WebSocket session's ``websocket.connect``."""
        self._put(
            K.ASGI_RECEIVE, req, _WS_CONNECT if req.route.websocket else _RECEIVE, w, t, 0, task
        )

    def ws_accept(self, req: Request, w: Worker, t: int, task: str | None) -> None:
        """``await send({"type": "websocket.accept"})``."""
        self._put(K.ASGI_SEND, req, _WS_ACCEPT, w, t, 0, task)

    def ws_receive(self, req: Request, w: Worker, t: int, size: int, task: str | None) -> None:
        """A client message, there when the app asked (``websocket.receive``)."""
        data = {"type": "websocket.receive", "bytes": size, "more_body": None}
        self._put(K.ASGI_RECEIVE, req, data, w, t, 0, task)

    def ws_send(self, req: Request, w: Worker, t: int, size: int, task: str | None) -> None:
        """The app's reply (``websocket.send``)."""
        data = {"type": "websocket.send", "status": None, "bytes": size, "more_body": None}
        self._put(K.ASGI_SEND, req, data, w, t, 0, task)

    def ws_disconnect(self, req: Request, w: Worker, t: int, task: str | None) -> None:
        """The client closed the session normally (``websocket.disconnect``, code 1000)."""
        self._put(K.ASGI_RECEIVE, req, _WS_DISCONNECT, w, t, 0, task)

    def step(
        self,
        req: Request,
        w: Worker,
        t: int,
        dur: int,
        cpu_ns: int,
        awaiting: str | None,
        location: str,
        task: str | None,
    ) -> None:
        """One coroutine step on the loop (``sched.step``)."""
        data = {"cpu_ns": cpu_ns, "awaiting": awaiting, "location": location}
        self._put(K.SCHED_STEP, req, data, w, t, dur, task)

    def thread_span(self, req: Request, w: Worker, t: int, dur: int, cpu_ns: int, via: str) -> None:
        """Code of the request ran on thread ``w`` (``sched.thread``): a WSGI request on its
        own thread, which is no hop and so has no ``queued_ns`` (as the WSGI shim records it)."""
        self._put(K.SCHED_THREAD, req, {"cpu_ns": cpu_ns, "via": via}, w, t, dur)

    def hop_span(
        self, req: Request, w: Worker, t: int, dur: int, cpu_ns: int, via: str, queued_ns: int
    ) -> None:
        """Work the request handed to a pool ran on thread ``w`` (a hop's ``sched.thread``),
        after waiting ``queued_ns`` from the hand-over (keys in the order the shim writes)."""
        data = {"cpu_ns": cpu_ns, "via": via, "queued_ns": queued_ns}
        self._put(K.SCHED_THREAD, req, data, w, t, dur)

    def blocked(
        self,
        req: Request,
        w: Worker,
        t: int,
        dur: int,
        location: str,
        delayed: list[int],
        task: str | None,
    ) -> None:
        """A step held the loop past the threshold (``loop.blocked``)."""
        self._put(K.LOOP_BLOCKED, req, {"location": location, "delayed": delayed}, w, t, dur, task)

    def asgi_response_start(self, req: Request, w: Worker, t: int, task: str | None) -> None:
        """``await send({"type": "http.response.start", "status": 200, ...})``."""
        self._put(K.ASGI_SEND, req, _RESPONSE_START, w, t, 0, task)

    def asgi_body(
        self, req: Request, w: Worker, t: int, size: int, more: bool, task: str | None
    ) -> None:
        """``await send({"type": "http.response.body", ...})``."""
        data = {"type": "http.response.body", "status": None, "bytes": size, "more_body": more}
        self._put(K.ASGI_SEND, req, data, w, t, 0, task)

    def start_response(self, req: Request, w: Worker, t: int) -> None:
        """The WSGI app called ``start_response("200 OK", ...)``."""
        self._put(K.WSGI_START_RESPONSE, req, _START_RESPONSE, w, t)

    def wsgi_body(self, req: Request, w: Worker, t: int, dur: int, size: int) -> None:
        """The WSGI body iterable produced one chunk, taking ``dur``."""
        self._put(K.WSGI_BODY, req, {"bytes": size}, w, t, dur)

    def wsgi_close(self, req: Request, w: Worker, t: int) -> None:
        """The server closed the WSGI body iterable."""
        self._put(K.WSGI_CLOSE, req, _NO_DATA, w, t, 0)

    def end(
        self,
        req: Request,
        w: Worker,
        task: str | None = None,
        *,
        close_called: bool | None = None,
        status: int = 200,
        bytes_in: int = 0,
    ) -> None:
        """The app is done with the request (``request.end``; WSGI says if close() was called;
        a WebSocket session ends with ``WS_STATUS`` and the bytes of the messages it got)."""
        data: dict[str, Any] = {
            "status": status,
            "bytes_in": bytes_in,
            "bytes_out": req.bytes_out,
            "error": None,
        }
        if close_called is not None:
            data["close_called"] = close_called
        self._put(K.REQUEST_END, req, data, w, req.ended, task=task)
        self.ended += 1
        if self.ended % _DRAIN_EVERY == 0 and self.recorder.backlog > _DRAIN_BACKLOG:
            # The simulation makes events far faster than the writer thread's timed drains
            # take them: without this the queue held most of a big run (~2.5 KB a request).
            self.recorder.drain_unread()

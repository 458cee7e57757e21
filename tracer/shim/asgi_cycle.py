"""``AsgiCycle``: one connection's way through the ASGI shim, from its start to its end.

The shim (``tracer.shim.asgi``) makes one cycle per call: per-request state never lives on
the shim. The cycle is the step proxy of the app's coroutine with the app's ``receive`` and
``send`` (``tracer.shim.asgi_calls.AsgiCalls``); this module adds the connection's two ends
and what the app raises: it records ``request.start`` with the scope summary, builds the
conformance checker (its reports are the request's ``violation`` events), records the app's
``error`` and ends the request with ``request.end``, whose status and error name need thought
on the rare ends (``tracer.shim.asgi_end``: uvicorn's 500 when the app ended without a
response start, the status of when the peer went).
Every recording step is guarded: a failure of ours is logged once by the shim and the
request goes on unrecorded. The rows are built by hand in ``tracer.events.FIELDS`` order
(``tracer.recorder.Sink``): this is the hot path. Imports the spine,
``tracer.conformance`` and sibling shim modules; never the TUI, exporters, server models or
CLI.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

from tracer import events as K
from tracer.conformance import AsgiChecker
from tracer.redact import redact_path
from tracer.shim.asgi_calls import AsgiCalls
from tracer.shim.asgi_end import coroutine_closed, end_status, error_name, task_cancelled
from tracer.shim.asgi_rows import (
    END_CUT_KEYS,
    END_KEYS,
    END_ROUTE_CUT_KEYS,
    END_ROUTE_KEYS,
    START_KEYS,
)
from tracer.shim.blocking import loop_state
from tracer.shim.frames import message_of, where_raised
from tracer.shim.messages import scope_headers, scope_query
from tracer.shim.running import UNKNOWN, fast_loop, task_on
from tracer.shim.steps import Stepper
from tracer.shim.tasks import watch_tasks, watching
from tracer.shim.trio_run import run_state, running_task, trio_cancelled

if TYPE_CHECKING:
    from tracer.shim.asgi import AsgiShim, Receive, Scope, Send

__all__ = ["AsgiCycle"]

_get_ident = threading.get_ident
# What the ASGI spec says a server leaving these optional scope keys out means.
_DEFAULT_HTTP_VERSIONS = {"http": "1.1", "websocket": "1.1"}
_DEFAULT_SCHEMES = {"http": "http", "websocket": "ws"}


class AsgiCycle(AsgiCalls):
    """One connection through the shim: the step proxy plus ids, counters, wrappers, checker."""

    __slots__ = ("scope", "outer")

    def __init__(
        self, shim: AsgiShim, scope: Scope, receive: Receive, send: Send, outer: Any
    ) -> None:
        recorder = shim.recorder
        req = None
        extensions = scope.get("extensions")
        if extensions:
            ours = extensions.get("gateway_tracer")
            if ours:
                req = ours.get("req")
        if req is None:
            req = recorder.new_request_id()
        tid = _get_ident()
        # The loop the shim's last request ran on names this one's task if it runs on this
        # thread (``tracer.shim.running``): no asyncio.current_task() and its system call.
        state = shim._loop_cache
        loop: Any = None if state is None else state.loop_ref()
        task = task_on(loop)
        fast: Any = loop  # the loop, when tracer.shim.running can name its tasks (else None)
        on_trio: Any = None
        if task is UNKNOWN:
            try:
                task = asyncio.current_task()
            except RuntimeError:  # not on asyncio: on trio (tracer.shim.trio_run), or by hand
                task = None
                on_trio = running_task()
            if task is not None:
                loop = task.get_loop()
                state = loop_state(loop)
                fast = fast_loop(loop)
                if fast is not None and state is not None:
                    shim._loop_cache = state
        if on_trio is not None:
            state = run_state()
            loop = fast = None
        elif task is None:
            state = loop = fast = None
        elif state is not None and not watching(loop):
            # Tasks this request creates are traced as its own. Checked at every request: an
            # app may set a task factory of its own (in its lifespan startup, say), which ours
            # then wraps.
            state.tasks_watched = True
            watch_tasks(loop)
        Stepper.__init__(
            self,
            None,
            req,
            recorder,
            shim.block_ns,
            on_trio.name if on_trio is not None else None if task is None else task.get_name(),
            tid,
            threading.current_thread().name,
            None,
            state,
        )
        self.shim = shim
        self.recorder = recorder
        self._receive = receive
        self._send = send
        self.scope = scope
        self.outer = outer  # the traced request current where the shim was called, or None
        # The request's own task, told from others by identity (alive while the request runs,
        # so its id is its own; no reference kept: the task holds this object already).
        self.root_id = id(on_trio) if on_trio is not None else None if task is None else id(task)
        self.loop = fast
        self.status = None
        self.bytes_in = 0
        self.bytes_out = 0
        self.ended = False
        self.gone = None
        self.completed = False
        self.websocket = scope.get("type") == "websocket"
        query = scope.get("query_string")
        path = scope.get("path")
        if type(path) is str and ";" in path and shim.redact:  # one substring test, usually
            path = redact_path(path)
        client = scope.get("client")
        server = scope.get("server")
        sink = self.sink
        sink.append(
            (
                next(sink.seq),
                sink.clock() - sink.start_ns,
                K.REQUEST_START,
                req,
                sink.pid,
                tid,
                self.thread,
                self.task,
                None,
                START_KEYS,
                scope.get("method"),
                path,
                scope_query(query, shim.redact) if query else "",
                scope.get("http_version") or _DEFAULT_HTTP_VERSIONS.get(scope["type"]),
                scope.get("scheme") or _DEFAULT_SCHEMES.get(scope["type"]),
                tuple(client) if client else None,
                tuple(server) if server else None,
                "asgi",
                scope["type"],
                scope_headers(scope.get("headers"), shim._verdicts, shim.secret_headers),
                shim._version,
            )
        )
        self.checker = (
            AsgiChecker(scope, self._report, verdicts=shim._verdicts) if shim.checks else None
        )

    def _report(self, rule_id: str, message: str, **data: Any) -> None:
        if self.recording:
            self.recorder.emit(
                K.VIOLATION,
                self.req,
                {"rule": rule_id, "message": message, **data},
                tid=self.tid,
                thread=self.thread,
                task=self.task,
            )

    def raised(self, exc: BaseException) -> None:
        """The app raised ``exc`` (about to propagate unchanged): record it as an ``error``."""
        if not self.recording or coroutine_closed(exc):
            return  # the coroutine was closed: not the app's error (request.end names it)
        if (isinstance(exc, asyncio.CancelledError) and task_cancelled()) or trio_cancelled(exc):
            return  # cancellation is not an app error; request.end still names it
        # SystemExit and KeyboardInterrupt raised by the app are its errors (the WSGI shim
        # records them too; servers answer them with a 500).
        try:
            self.recorder.emit(
                K.ERROR,
                self.req,
                {
                    "type": type(exc).__name__,
                    "message": message_of(exc),
                    "where": where_raised(exc.__traceback__, self.shim.app),
                },
                tid=self.tid,
                thread=self.thread,
                task=self.task,
            )
        except Exception as failure:
            self.failed(failure)

    def finish(self, error: BaseException | None, route: str | None = None) -> None:
        """The app's coroutine is over: tell the checker, record ``request.end``.

        ``route`` is the path template of the route the app's router matched (Starlette and
        FastAPI leave it in the scope; ``tracer.shim.routes``), or None.
        """
        self.ended = True  # from now on a send is late (no app code runs until request.end)
        checker = self.checker
        if checker is not None:
            self.checker = None  # the checker holds our report method: break the cycle
            try:
                checker.finish(error=error)
            except Exception as exc:
                self.checker_failed(exc)
        if not self.recording:
            return
        status = self.status
        bytes_out = self.bytes_out
        gone = self.gone
        # Cut short: an http response whose start the server took (while the peer was there)
        # never had its last body message taken while the peer was there, whatever stopped it
        # (the client left, the app returned or raised mid-body, its task was cancelled).
        cut = (
            not self.completed
            and (status if gone is None else gone.status) is not None
            and self.scope.get("type") == "http"
        )
        if gone is not None or type(status) is not int:  # the rare ends: no start, no peer
            status = end_status(self, error)
            if gone is not None:
                bytes_out -= gone.bytes_out
        try:
            sink = self.sink
            row: tuple[Any, ...] = (
                next(sink.seq),
                sink.clock() - sink.start_ns,
                K.REQUEST_END,
                self.req,
                sink.pid,
                self.tid,
                self.thread,
                self.task,
                None,
                END_KEYS,
                status,
                self.bytes_in,
                bytes_out,
                None if error is None else error_name(error),
            )
            if route is not None:
                row = (*row[:9], END_ROUTE_KEYS, *row[10:], route)
            if cut:  # rare: the layout with ``cut_short`` last
                keys = END_CUT_KEYS if route is None else END_ROUTE_CUT_KEYS
                row = (*row[:9], keys, *row[10:], True)
            sink.append(row)
        except Exception as exc:
            self.failed(exc)

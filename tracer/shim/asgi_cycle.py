"""``AsgiCycle``: one connection's way through the ASGI shim, and where its events are made.

The shim (``tracer.shim.asgi``) makes one cycle per call: per-request state never lives on
the shim. The cycle is the step proxy of the app's coroutine (``tracer.shim.steps.Stepper``);
it records ``request.start`` with the scope summary, hands the app its ``receive`` and
``send`` (timed and recorded as ``asgi.receive`` / ``asgi.send``, also when they raise),
runs the conformance checker's hooks (a checker that raises is switched off for the
request), records the app's ``error`` and ends the request with ``request.end``, whose
status is uvicorn's 500 when the app ended without a response start (``_end_status``).
Once the app knows its peer is gone (it received a disconnect, its own ``websocket.close``
went out, the server's send raised an ``OSError``), what it sends still goes to the server
and is recorded, but counts in neither the status nor ``bytes_out`` (``_Unheard``). A
``send`` awaited after ``request.end`` goes to the server unchanged and gets one
``ASGI-003`` violation.
Every recording step is guarded: a failure of ours is logged once by the shim and the
request goes on unrecorded. The rows are built by hand in ``tracer.events.FIELDS`` order
(``tracer.recorder.Sink``): this is the hot path. Imports the spine,
``tracer.conformance`` and sibling shim modules; never the TUI, exporters, server models or
CLI.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tracer import events as K
from tracer.conformance import AsgiChecker
from tracer.conformance.base import report_late_call
from tracer.redact import redact_path
from tracer.shim.blocking import loop_state
from tracer.shim.context import CURRENT
from tracer.shim.frames import mark_wrapper, message_of, where_awaited, where_raised
from tracer.shim.messages import scope_headers, scope_query, summarize_message
from tracer.shim.running import CURRENT_TASKS, UNKNOWN, fast_loop, task_on
from tracer.shim.steps import Stepper
from tracer.shim.tasks import watch_tasks

if TYPE_CHECKING:
    from tracer.shim.asgi import AsgiShim, Message, Receive, Scope, Send

__all__ = ["AsgiCycle"]

_current_task = asyncio.current_task
_get_ident = threading.get_ident
# Which task runs on a loop of ``tracer.shim.running.fast_loop`` (empty where none is fast).
_TASKS: dict[Any, Any] = CURRENT_TASKS if CURRENT_TASKS is not None else {}

# Field names of packed rows (``tracer.events.unpack_row``), in the order of their values.
_RECEIVE_KEYS = ("type", "bytes", "more_body")
_RECEIVE_CODE_KEYS = ("type", "bytes", "more_body", "code")
_SEND_KEYS = ("type", "status", "bytes", "more_body")
_SEND_CODE_KEYS = ("type", "status", "bytes", "more_body", "code")
# A receive or send that raised (the server's, or a cancellation while waiting in it): what
# was sent, and the exception's type name.
_RECEIVE_RAISED_KEYS = ("type", "bytes", "more_body", "raised")
_SEND_RAISED_KEYS = (*_SEND_KEYS, "raised")
_SEND_CODE_RAISED_KEYS = (*_SEND_CODE_KEYS, "raised")
_END_KEYS = ("status", "bytes_in", "bytes_out", "error")
_END_ROUTE_KEYS = (*_END_KEYS, "route")
# What the ASGI spec says a server leaving these optional scope keys out means.
_DEFAULT_HTTP_VERSIONS = {"http": "1.1", "websocket": "1.1"}
_DEFAULT_SCHEMES = {"http": "http", "websocket": "ws"}
# Connections a server answers with a 500 when the app ends without answering them, and the
# messages that answer them (a refused one leaves uvicorn closing the connection, no 500).
_ANSWERED = frozenset({"http", "websocket"})
_ANSWERS = frozenset({"http.response.start", "websocket.accept", "websocket.http.response.start"})

# request.start: client and server travel as tuples, headers as one flat tuple (see
# ``tracer.events._decoders``), so the row holds no container the GC would have to follow.
_START_KEYS = (
    "method",
    "path",
    "query",
    "http_version",
    "scheme",
    "client:list",
    "server:list",
    "interface",
    "scope_type",
    "headers:pairs",
    "asgi_version",
)


def _error_name(error: BaseException) -> str:
    """``request.end``'s ``error``: the exception's type name, and ``cancelled`` for a
    cancellation of the request's task, the name every server model and the client give a
    request the run's stop (or a server) cut short. A ``CancelledError`` the app raised on its
    own, its task not being cancelled, is its error like any other (uvicorn answers it 500)."""
    if isinstance(error, asyncio.CancelledError) and _task_cancelled():
        return "cancelled"
    return type(error).__name__


def _task_cancelled() -> bool:
    """Whether the current task is being cancelled (asked for on error paths only)."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # not on asyncio (trio): a cancellation of the app's framework
        return True
    return task is None or task.cancelling() > 0


def _closed(error: BaseException) -> bool:
    """Whether ``error`` is the shim's coroutine being closed, not an exception of the app.

    Whatever drives the shim (an event loop closing a task it dropped, a server's shutdown)
    calls ``close()``, or throws ``GeneratorExit``, into the shim's coroutine: Python closes
    the step proxy (which closes the app's coroutine) and raises a ``GeneratorExit`` at the
    shim's own ``await``, whose traceback ends there or in the step proxy. One the app raised
    itself comes out of a step, so its traceback goes on past the step proxy into the app's
    code; servers answer it as any other exception (uvicorn, hypercorn, granian: 500).
    """
    if not isinstance(error, GeneratorExit):
        return False
    tb = error.__traceback__  # the shim's __call__, then the step proxy, then the app
    step = None if tb is None else tb.tb_next
    return step is None or step.tb_frame.f_code is not _DRIVE_CODE or step.tb_next is None


_DRIVE_CODE = Stepper._drive.__code__


class _Unheard:
    """The server's ``send`` once the app's peer is gone: what goes through it from then on
    reaches nobody (every server drops it, or its connection is closed), so ``request.end``
    takes it back out of the counts. Installed as the cycle's ``_send`` on the rare path that
    finds the peer gone, so a request whose peer stays pays nothing for it."""

    __slots__ = ("server_send", "status", "bytes_out")

    def __init__(self, server_send: Send, status: int | None) -> None:
        self.server_send = server_send
        self.status = status
        """The request's status when the peer went: the one ``request.end`` keeps."""
        self.bytes_out = 0
        """Bytes of the sends the server took since: taken back from ``bytes_out``."""

    async def send(self, message: Message) -> None:
        """The server's ``send``, then the size of what it took noted (no reference kept)."""
        await self.server_send(message)
        size = summarize_message(message)[2]  # never raises: a malformed message reads as None
        if size:
            self.bytes_out += size


def _sent_status(status: Any) -> int | None:
    """The status line's number for a response status the app gave as no plain int and the
    server took: ``int()`` of it, as hypercorn makes it (``"200"``, ``HTTPStatus.OK``); None
    when that fails or for a bool (no server sends ``True`` as a status)."""
    if isinstance(status, bool):
        return None
    try:
        return int(status)
    except (TypeError, ValueError, OverflowError):
        return None


def _answered_500(error: BaseException | None) -> bool:
    """Whether a server answers 500 to an app that ended so without a response start:
    returned, or raised anything but a cancellation of its task or a close of its coroutine,
    ``SystemExit`` and a ``GeneratorExit`` of its own included (uvicorn catches
    ``BaseException`` and answers 500)."""
    if error is None or isinstance(error, Exception):
        return True
    if isinstance(error, asyncio.CancelledError):
        return not _task_cancelled()
    return not _closed(error)


class AsgiCycle(Stepper):
    """One connection through the shim: the step proxy plus ids, counters, wrappers, checker."""

    __slots__ = (
        "shim",
        "recorder",
        "_receive",
        "_send",
        "checker",
        "status",
        "bytes_in",
        "bytes_out",
        "scope",
        "outer",
        "ended",
        "root_id",
        # The request's loop when ``tracer.shim.running`` can name its task without asking
        # asyncio (one system call less per receive and send), else None.
        "loop",
        # Set only when a late send is reported (read with getattr): nothing to pay before.
        "late_reported",
        # Set only when the server's send raised on a response start or handshake answer
        # (read with getattr), as late_reported.
        "start_refused",
        # None while the app's peer may still get what it sends; the ``_Unheard`` installed
        # as ``_send`` once it is gone (``peer_gone``).
        "gone",
    )

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
        if task is UNKNOWN:
            try:
                task = asyncio.current_task()
            except RuntimeError:  # not on asyncio (trio)
                task = None
            if task is not None:
                loop = task.get_loop()
                state = loop_state(loop)
                fast = fast_loop(loop)
                if fast is not None and state is not None:
                    shim._loop_cache = state
        if task is None:
            state = loop = fast = None
        elif state is not None and not state.tasks_watched:
            state.tasks_watched = True
            watch_tasks(loop)  # tasks this request creates are traced as its own
        Stepper.__init__(
            self,
            None,
            req,
            recorder,
            shim.block_ns,
            None if task is None else task.get_name(),
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
        self.root_id = None if task is None else id(task)
        self.loop: Any = fast
        self.status: int | None = None
        self.bytes_in = 0
        self.bytes_out = 0
        self.ended = False
        self.gone: _Unheard | None = None
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
                _START_KEYS,
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
        self.checker: AsgiChecker | None = AsgiChecker(scope, self._report) if shim.checks else None

    async def receive(self) -> Message:
        """The app's ``receive``: the server's, timed and recorded (also when it raised)."""
        sink = self.sink
        clock = sink.clock
        loop = self.loop
        # ``_calling_task`` inlined for the request's own task, the common caller: seen on
        # its loop (``tracer.shim.running.task_on``), without asking asyncio.
        if loop is not None and len(_TASKS) < 2 and loop._thread_id == _get_ident():
            task = self.task if id(_TASKS.get(loop)) == self.root_id else self._calling_task()
        else:
            task = self._calling_task()
        t0 = clock()
        # While the server's own code runs, no request is current: tasks it starts and work
        # it hands to threads are the server's, not this request's.
        token = CURRENT.set(None)
        try:
            message = await self._receive()
        except BaseException as exc:  # cancelled while waiting, or the server's receive failed
            t1 = clock()
            CURRENT.reset(token)
            if self.recording:
                self._receive_raised(t0, t1, task, exc)
            raise
        CURRENT.reset(token)
        t1 = clock()
        if self.recording:
            try:
                mtype, _, size, more, code = summarize_message(message)
                if size:
                    self.bytes_in += size
                elif mtype == "http.disconnect":
                    self.peer_gone()
                row = (
                    next(sink.seq),
                    t0 - sink.start_ns,
                    K.ASGI_RECEIVE,
                    self.req,
                    sink.pid,
                    self.tid,
                    self.thread,
                    task,
                    t1 - t0,
                )
                if code is None:
                    sink.append((*row, _RECEIVE_KEYS, mtype, size, more))
                else:
                    sink.append((*row, _RECEIVE_CODE_KEYS, mtype, size, more, code))
                    if mtype == "websocket.disconnect":
                        self.peer_gone()
            except Exception as exc:
                self.failed(exc)
        checker = self.checker
        if checker is not None:
            try:
                checker.receive(message)
            except Exception as exc:
                self.checker_failed(exc)
        return message

    def _receive_raised(self, t0: int, t1: int, task: str | None, exc: BaseException) -> None:
        """An ``asgi.receive`` for a ``receive()`` that raised: no message, ``raised`` says what."""
        try:
            sink = self.sink
            sink.append(
                (
                    next(sink.seq),
                    t0 - sink.start_ns,
                    K.ASGI_RECEIVE,
                    self.req,
                    sink.pid,
                    self.tid,
                    self.thread,
                    task,
                    t1 - t0,
                    _RECEIVE_RAISED_KEYS,
                    None,
                    None,
                    None,
                    type(exc).__name__,
                )
            )
        except Exception as failure:
            self.failed(failure)

    def _calling_task(self) -> str | None:
        """The name of the task calling ``receive``/``send``: the request's own, or another of
        its tasks (a ``StreamingResponse``'s, ``BaseHTTPMiddleware``'s ``call_next``)."""
        if self.root_id is None:  # not on asyncio (trio)
            return self.task
        task = task_on(self.loop)  # without asyncio.current_task()'s system call, if it can
        if task is UNKNOWN:
            try:
                task = _current_task()
            except RuntimeError:  # called with no loop running: nothing to name
                return None
        if task is None:
            return None
        return self.task if id(task) == self.root_id else task.get_name()

    async def send(self, message: Message) -> None:
        """The app's ``send``: checked, passed to the server, timed and recorded."""
        checker = self.checker
        if checker is not None:
            try:
                checker.send(message)
            except Exception as exc:
                self.checker_failed(exc)
        elif self.ended:  # the checker is dropped at the end: checked only without one
            return await self.late_send(message)
        sink = self.sink
        clock = sink.clock
        loop = self.loop
        if loop is not None and len(_TASKS) < 2 and loop._thread_id == _get_ident():
            task = self.task if id(_TASKS.get(loop)) == self.root_id else self._calling_task()
        else:
            task = self._calling_task()
        t0 = clock()
        token = CURRENT.set(None)  # the server's code runs for no request (see receive)
        raised: str | None = None
        try:
            await self._send(message)
        except BaseException as exc:
            raised = type(exc).__name__
            lost = isinstance(exc, OSError)  # the connection is gone (ClientDisconnected)
            raise
        finally:
            t1 = clock()
            CURRENT.reset(token)
            if self.recording:
                try:
                    mtype, status, size, more, code = summarize_message(message)
                    # The attempt is recorded either way; the request's status and bytes
                    # count only what the server took (its send raises once the client left).
                    if raised is None:
                        if size:
                            self.bytes_out += size
                        if status is not None:
                            self.status = status
                        elif mtype == "websocket.accept":
                            self.status = 101
                        elif mtype == "websocket.close":
                            if self.status is None:
                                self.status = 403  # closed before accepting: servers answer 403
                            self.peer_gone()  # the session is over: later sends reach nobody
                    else:
                        self._refused(mtype, lost)
                    if raised is None and code is None:  # the common case: one tuple
                        sink.append(
                            (
                                next(sink.seq),
                                t0 - sink.start_ns,
                                K.ASGI_SEND,
                                self.req,
                                sink.pid,
                                self.tid,
                                self.thread,
                                task,
                                t1 - t0,
                                _SEND_KEYS,
                                mtype,
                                status,
                                size,
                                more,
                            )
                        )
                    else:
                        self._send_row(t0, t1, task, mtype, status, size, more, code, raised)
                except Exception as exc:
                    self.failed(exc)

    def _send_row(
        self,
        t0: int,
        t1: int,
        task: str | None,
        mtype: Any,
        status: int | None,
        size: int | None,
        more: bool | None,
        code: int | None,
        raised: str | None,
    ) -> None:
        """An ``asgi.send`` with a close ``code`` or of a send that ``raised``."""
        sink = self.sink
        head = (
            next(sink.seq),
            t0 - sink.start_ns,
            K.ASGI_SEND,
            self.req,
            sink.pid,
            self.tid,
            self.thread,
            task,
            t1 - t0,
        )
        if raised is None:
            sink.append((*head, _SEND_CODE_KEYS, mtype, status, size, more, code))
        elif code is None:
            sink.append((*head, _SEND_RAISED_KEYS, mtype, status, size, more, raised))
        else:
            sink.append((*head, _SEND_CODE_RAISED_KEYS, mtype, status, size, more, code, raised))

    def _refused(self, mtype: Any, lost: bool) -> None:
        """The server's send raised on a message of type ``mtype``; ``lost``: with an
        ``OSError``, the connection being gone (uvicorn's ``ClientDisconnected``)."""
        if mtype in _ANSWERS:
            # uvicorn closes the connection after a start it could not write (or the client
            # left): no 500. (A body or unknown message refused before any start is the
            # app's misuse: the server still answers 500.)
            self.start_refused = True
        if lost:  # nobody gets a 500, nor anything sent later
            self.peer_gone()

    def peer_gone(self) -> None:
        """The app's peer is gone (a disconnect the app received, its own ``websocket.close``
        taken, a send refused for a lost connection): from now on what it sends counts in
        neither ``status`` nor ``bytes_out``. Sends already under way still count."""
        if self.gone is None:
            gone = self.gone = _Unheard(self._send, self.status)
            self._send = gone.send

    async def late_send(self, message: Message) -> None:
        """``send`` awaited after ``request.end``: report it, then the server's ``send`` as is
        (whatever it does, accept or raise, the app sees); no ``asgi.send``, no counts."""
        if self.shim.checks and self.recording and not getattr(self, "late_reported", False):
            self.late_reported = True
            try:
                mtype = message.get("type") if isinstance(message, Mapping) else None
                detail = f"send() of {mtype}" if isinstance(mtype, str) else "send()"
                location = where_awaited(sys._getframe())
                if location is None:  # say why there is no line: nothing of the app awaits it
                    detail += ", run by the event loop as a task of its own"
                report_late_call(self._report_late, "ASGI-003", detail, location)
            except Exception as exc:
                self.failed(exc)
        token = CURRENT.set(None)  # the server's code runs for no request (see receive)
        try:
            await self._send(message)
        finally:
            CURRENT.reset(token)

    def _report_late(self, rule_id: str, message: str, **data: Any) -> None:
        """``report`` for a late send: dated now, on the thread and task that sent it."""
        try:
            task = asyncio.current_task()
        except RuntimeError:  # not on asyncio (trio)
            task = None
        self.recorder.emit(
            K.VIOLATION,
            self.req,
            {"rule": rule_id, "message": message, **data},
            task=None if task is None else task.get_name(),
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
        if not self.recording or _closed(exc):
            return  # the coroutine was closed: not the app's error (request.end names it)
        if isinstance(exc, asyncio.CancelledError) and _task_cancelled():
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
        if gone is not None or type(status) is not int:  # the rare ends: no start, no peer
            status = self._end_status(error)
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
                _END_KEYS,
                status,
                self.bytes_in,
                bytes_out,
                None if error is None else _error_name(error),
            )
            if route is not None:
                row = (*row[:9], _END_ROUTE_KEYS, *row[10:], route)
            sink.append(row)
        except Exception as exc:
            self.failed(exc)

    def _end_status(self, error: BaseException | None) -> int | None:
        """``request.end``'s status where it is not simply the int the server took: what
        uvicorn answers (a shim cannot tell which server runs it: docs/recording-format.md
        says which servers differ).

        The status of when the peer went, if it went (what was sent later reached nobody); a
        status the app gave as no int, as the number the server sent of it; and 500 when the
        app ended (returned, or raised as ``_answered_500`` says) without a response start,
        websocket accept, close or denial the server took, as uvicorn and hypercorn answer an
        ``http`` request or a websocket handshake. None when the server refused the start or
        accept itself: uvicorn closes the connection then (hypercorn and granian send 500).
        """
        gone = self.gone
        taken = self.status if gone is None else gone.status
        if taken is not None:
            return taken if type(taken) is int else _sent_status(taken)
        if (
            gone is None
            and self.scope.get("type") in _ANSWERED
            and not getattr(self, "start_refused", False)
            and _answered_500(error)
        ):
            return 500
        return None

    def failed(self, exc: BaseException) -> None:
        """Our recording code failed: stop recording this request, say so once."""
        self.recording = False
        self.shim.failed("recording", exc)

    def checker_failed(self, exc: BaseException) -> None:
        """The conformance checker failed: disable it for this request, say so once."""
        self.checker = None
        self.shim.failed("the ASGI conformance checker", exc)


mark_wrapper(AsgiCycle.receive.__code__, "receive")
mark_wrapper(AsgiCycle.send.__code__, "send")
mark_wrapper(AsgiCycle.late_send.__code__, "send")
mark_wrapper(_Unheard.send.__code__, "send")

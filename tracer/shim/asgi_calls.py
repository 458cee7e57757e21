"""``AsgiCalls``: the step proxy of an ASGI app's coroutine with the app's ``receive`` and ``send``.

The app's ``receive`` and ``send`` are bound methods of its request's cycle (``AsgiCycle``
builds on this class): each call is passed to the server's own, timed and recorded as
``asgi.receive`` / ``asgi.send`` (also when it raised), named after the task that made it,
and shown to the conformance checker (a checker that raises is switched off for the
request). Each call also keeps the request's counts: ``status``, ``bytes_in``,
``bytes_out``; once the app knows its peer is gone, what it sends goes through an
``Unheard`` (``tracer.shim.asgi_unheard``) and counts no more. A ``send`` awaited after
``request.end`` goes to ``tracer.shim.asgi_late``.
Every recording step is guarded: a failure of ours is logged once by the shim and the
request goes on unrecorded. The rows are built by hand in ``tracer.events.FIELDS`` order
(``tracer.recorder.Sink``, layouts in ``tracer.shim.asgi_rows``): this is the hot path, one
call per message. Imports the spine, ``tracer.conformance`` and sibling shim modules; never
the TUI, exporters, server models or CLI.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

from tracer import events as K
from tracer.shim.asgi_end import ANSWERS
from tracer.shim.asgi_late import late_send
from tracer.shim.asgi_rows import (
    RECEIVE_CODE_KEYS,
    RECEIVE_KEYS,
    RECEIVE_RAISED_KEYS,
    SEND_CODE_KEYS,
    SEND_CODE_RAISED_KEYS,
    SEND_KEYS,
    SEND_MESSAGE_KEYS,
    SEND_MESSAGE_RAISED_KEYS,
    SEND_RAISED_KEYS,
    detailed_keys,
)
from tracer.shim.asgi_unheard import Unheard
from tracer.shim.context import CURRENT
from tracer.shim.frames import mark_wrapper
from tracer.shim.messages import (
    LIFESPAN_FAILURES,
    failure_message,
    summarize_message,
    websocket_detail,
)
from tracer.shim.running import CURRENT_TASKS, UNKNOWN, task_on
from tracer.shim.steps import Stepper
from tracer.shim.trio_run import running_task

if TYPE_CHECKING:
    from tracer.conformance import AsgiChecker
    from tracer.recorder import Recorder
    from tracer.shim.asgi import AsgiShim, Message, Receive, Send

__all__ = ["AsgiCalls"]

_current_task = asyncio.current_task
_get_ident = threading.get_ident
# The messages that end a response when sent without ``more_body`` (a ``pathsend`` always
# does: ``summarize_message`` gives it ``more_body`` False).
_LAST_BODIES = frozenset(
    {"http.response.body", "http.response.zerocopysend", "http.response.pathsend"}
)
# Which task runs on a loop of ``tracer.shim.running.fast_loop`` (empty where none is fast).
_TASKS: dict[Any, Any] = CURRENT_TASKS if CURRENT_TASKS is not None else {}


class AsgiCalls(Stepper):
    """The step proxy plus the app's ``receive`` and ``send`` and the counts they keep.

    Its fields are set by ``AsgiCycle.__init__``, once per request (no second ``__init__``
    to call on the way).
    """

    __slots__ = (
        "shim",
        "recorder",
        "_receive",
        "_send",
        "checker",
        "status",
        "bytes_in",
        "bytes_out",
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
        # None while the app's peer may still get what it sends; the ``Unheard`` installed
        # as ``_send`` once it is gone (``peer_gone``).
        "gone",
        # The server took the response's last body message while the peer was there.
        "completed",
        # A WebSocket scope's: its messages say text or bytes, a close's reason, the accepted
        # subprotocol (``websocket_detail``); an HTTP request's pay one test for it.
        "websocket",
    )

    shim: AsgiShim
    recorder: Recorder
    _receive: Receive
    _send: Send
    checker: AsgiChecker | None
    status: int | None
    bytes_in: int
    bytes_out: int
    ended: bool
    root_id: int | None
    loop: Any
    late_reported: bool
    start_refused: bool
    gone: Unheard | None
    completed: bool
    websocket: bool

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
                detail = websocket_detail(message) if self.websocket else None
                if detail is not None:
                    plain: tuple[str, ...] = RECEIVE_KEYS if code is None else RECEIVE_CODE_KEYS
                    values = (mtype, size, more) if code is None else (mtype, size, more, code)
                    sink.append((*row, detailed_keys(plain, detail[0]), *values, detail[1]))
                elif code is None:
                    sink.append((*row, RECEIVE_KEYS, mtype, size, more))
                else:
                    sink.append((*row, RECEIVE_CODE_KEYS, mtype, size, more, code))
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
                    RECEIVE_RAISED_KEYS,
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
            except RuntimeError:  # no asyncio loop: a trio task (tracer.shim.trio_run), or none
                task = running_task()
                if task is None:
                    return None
                return self.task if id(task) == self.root_id else task.name
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
            return await late_send(self, message)
        sink = self.sink
        clock = sink.clock
        loop = self.loop
        if loop is not None and len(_TASKS) < 2 and loop._thread_id == _get_ident():
            task = self.task if id(_TASKS.get(loop)) == self.root_id else self._calling_task()
        else:
            task = self._calling_task()
        # Read before the server's send: middleware further out may change the very dict
        # once it has it (Starlette's GZipMiddleware puts the compressed body in it), and
        # what is recorded is what the app sent, as the checker saw it.
        summary = None
        said = detail = None
        if self.recording:
            summary = summarize_message(message)  # never raises: malformed reads as None
            try:
                mtype = summary[0]
                if type(mtype) is str and mtype in LIFESPAN_FAILURES:  # a list is no key
                    said = failure_message(message)
                if self.websocket:
                    detail = websocket_detail(message)
            except Exception as exc:
                self.failed(exc)
        t0 = clock()
        token = CURRENT.set(None)  # the server's code runs for no request (see receive)
        raised: str | None = None
        heard = self.gone is None  # the peer was there as the send began: it counts
        try:
            await self._send(message)
        except BaseException as exc:
            raised = type(exc).__name__
            lost = isinstance(exc, OSError)  # the connection is gone (ClientDisconnected)
            raise
        finally:
            t1 = clock()
            CURRENT.reset(token)
            if summary is not None:  # recording (read before the send)
                try:
                    mtype, status, size, more, code = summary
                    # The attempt is recorded either way; the request's status and bytes
                    # count only what the server took (its send raises once the client left).
                    if raised is None:
                        if more is False and heard and mtype in _LAST_BODIES:
                            self.completed = True
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
                    if raised is None and code is None and said is None and detail is None:
                        # The common case.
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
                                SEND_KEYS,
                                mtype,
                                status,
                                size,
                                more,
                            )
                        )
                    else:
                        self._send_row(
                            t0, t1, task, mtype, status, size, more, code, raised, said, detail
                        )
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
        said: str | None = None,
        detail: tuple[str, Any] | None = None,
    ) -> None:
        """An ``asgi.send`` with a close ``code``, of a send that ``raised``, of a lifespan
        failure with the app's ``message`` (``said``), or of a WebSocket message with its one
        field more (``detail``: ``websocket_detail``'s)."""
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
        keys: tuple[str, ...]
        values: tuple[Any, ...]
        if said is not None:  # a lifespan failure's: no close code
            if raised is None:
                keys, values = SEND_MESSAGE_KEYS, (mtype, status, size, more, said)
            else:
                keys, values = SEND_MESSAGE_RAISED_KEYS, (mtype, status, size, more, said, raised)
        elif code is None:
            if raised is None:  # only a WebSocket message's detail makes it uncommon
                keys, values = SEND_KEYS, (mtype, status, size, more)
            else:
                keys, values = SEND_RAISED_KEYS, (mtype, status, size, more, raised)
        elif raised is None:
            keys, values = SEND_CODE_KEYS, (mtype, status, size, more, code)
        else:
            keys, values = SEND_CODE_RAISED_KEYS, (mtype, status, size, more, code, raised)
        if detail is not None:
            keys, values = detailed_keys(keys, detail[0]), (*values, detail[1])
        sink.append((*head, keys, *values))

    def _refused(self, mtype: Any, lost: bool) -> None:
        """The server's send raised on a message of type ``mtype``; ``lost``: with an
        ``OSError``, the connection being gone (uvicorn's ``ClientDisconnected``)."""
        if mtype in ANSWERS:
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
            gone = self.gone = Unheard(self._send, self.status)
            self._send = gone.send

    def failed(self, exc: BaseException) -> None:
        """Our recording code failed: stop recording this request, say so once."""
        self.recording = False
        self.shim.failed("recording", exc)

    def checker_failed(self, exc: BaseException) -> None:
        """The conformance checker failed: disable it for this request, say so once."""
        self.checker = None
        self.shim.failed("the ASGI conformance checker", exc)


mark_wrapper(AsgiCalls.receive.__code__, "receive")
mark_wrapper(AsgiCalls.send.__code__, "send")

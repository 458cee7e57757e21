"""``WsgiCycle``: one request's way through the WSGI shim, and where its events are made.

The shim makes one cycle per call (per-request state never lives on the shim). The cycle
records ``request.start``, hands the app its ``start_response`` and ``write``, receives the
hooks of the input and body wrappers, runs the conformance checker's hooks (a checker that
raises is switched off for the request) and ends the request with ``sched.thread`` and
``request.end`` (with ``route``, the template Bottle's or Flask's router left in the environ:
``tracer.shim.routes``). Every recording step is guarded: a failure of ours is logged once by
the shim and the request goes on. The request's status is taken from a ``start_response`` call only once
the server accepted it. An app that kept ``start_response`` or ``write`` and calls it after
``request.end`` (from a thread, or in a later request) is handed to ``tracer.shim.wsgi_late``:
it gets the server's answer unchanged, and the request one ``WSGI-026`` violation. Imports the spine, ``tracer.conformance.base`` and
sibling shim modules; never the TUI, exporters, server models or CLI.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tracer import events as K
from tracer.shim import greenlets
from tracer.shim.frames import message_of, where_raised
from tracer.shim.routes import rule_of, url_rule_of
from tracer.shim.wsgi_body import FileWrapperClose, SizedTracedBody, TracedBody, file_length
from tracer.shim.wsgi_input import TracedInput
from tracer.shim.wsgi_late import late_start_response, late_write

if TYPE_CHECKING:
    from tracer.shim.wsgi import WsgiShim

__all__ = ["WsgiCycle", "REQ_KEY", "TRACED_KEY", "client_gone"]

REQ_KEY = "gateway_tracer.req"
"""The environ key a server model uses to hand its request id to the shim."""

TRACED_KEY = "gateway_tracer.recorders"
"""The environ key where shims list the recorders already recording the request (a tuple): a
shim further in with one of them passes the request straight to its app."""

# The OS thread's, also where gevent patched ``threading`` (its ``get_ident`` then names the
# greenlet): a request is on its OS thread, its greenlet is its ``task`` (``tracer.shim.greenlets``).
_get_ident = greenlets.os_thread_ident()
# Field names of packed rows (``tracer.events.unpack_row``), in the order of their values.
_BODY_KEYS = ("bytes",)
_THREAD_KEYS = ("cpu_ns", "via")
_END_KEYS = ("status", "bytes_in", "bytes_out", "error", "close_called")
_END_CUT_KEYS = (*_END_KEYS, "cut_short")
_END_ROUTE_KEYS = (*_END_KEYS, "route")
_END_ROUTE_CUT_KEYS = (*_END_ROUTE_KEYS, "cut_short")
_START_RESPONSE_KEYS = ("status:text", "headers:pairs", "exc_info")
_thread_time_ns = time.thread_time_ns


def _exc_name(exc_info: Any) -> str | None:
    """The exception type named by a ``start_response`` exc_info, or None."""
    if not exc_info:
        return None
    try:
        return type(exc_info[1]).__name__
    except (TypeError, IndexError, KeyError):
        return type(exc_info).__name__  # malformed exc_info: the checker reports it


def _size(data: Any) -> int:
    """The bytes ``data`` puts on the wire: 0 for what is not bytes-like (a ``str`` chunk is
    refused by every server, and the checker reports it)."""
    if isinstance(data, (bytes, bytearray)):
        return len(data)
    if isinstance(data, memoryview):
        return data.nbytes
    return 0


def _status_code(status: Any) -> int | None:
    """The code of a status line that starts as PEP 3333 asks (three digits, then a space),
    else None: ``int()`` alone would read ``" 20 OK"`` as 20."""
    if not isinstance(status, str) or status[3:4] != " ":
        return None
    code = status[:3]
    return int(code) if code.isascii() and code.isdigit() else None


def client_gone(exc: BaseException) -> bool:
    """Whether a server's ``write()`` raised ``exc`` because the client's connection was gone:
    an ``OSError`` (``BrokenPipeError``, ``ConnectionResetError``: gunicorn, wsgiref) or
    waitress's ``ClientDisconnected`` (told by name: the shim imports no server). Not a
    refusal of the data (``TypeError`` for a ``str``), which is the app's error."""
    return isinstance(exc, OSError) or type(exc).__name__ == "ClientDisconnected"


class WsgiCycle:
    """One request through the shim: its id, counters, thread segment and checker."""

    __slots__ = (
        "shim",
        "recorder",
        "now",
        "sink",
        "req",
        "server_start_response",
        "server_write",
        "checker",
        "status",
        "headers",
        "bytes_in",
        "bytes_out",
        "responded",
        # The app's iterable ran to its end (``StopIteration``): the response was all handed
        # to the server. Never set for a ``wsgi.file_wrapper`` the server sends itself.
        "exhausted",
        # The server refused a ``write()`` (it raised): part of the response never went out.
        "refused",
        # The status is the server's own 500 for an app that raised before its headers went.
        "answered_500",
        "error",
        # The template of the route the app's router matched (Bottle's, Flask's), or None.
        "route",
        # The server's environ while the app is called (then None): Flask's request is in it
        # only until the app returns, so its route is read when the app starts its response.
        # Kept until the request's end when the call returned with no response started (a
        # generator, such as a middleware's: the app it wraps routes as the server iterates).
        "environ",
        "done",
        "tid",
        "thread",
        # The greenlet the request runs in, when gevent serves it (``tracer.shim.greenlets``;
        # its steps are then ``sched.step`` events, and it has no ``sched.thread``), else None.
        "task",
        "seg_t",
        "seg_cpu",
        "last_t",
        "call_t",
        "report_t",
        # Set only when a late call is reported (read with getattr): a request that makes none
        # pays nothing for it, not even in __init__.
        "late_reported",
        # What a ``write()`` raised because its client had gone (``client_gone``), set only then
        # (read with getattr, as ``late_reported``): the app passing it on is no app error.
        "refusal",
    )
    late_reported: bool  # set by tracer.shim.wsgi_late, on the first late call only
    refusal: BaseException  # set by write, when the server raised for a client that left

    def __init__(
        self, shim: WsgiShim, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> None:
        recorder = shim.recorder
        self.shim = shim
        self.recorder = recorder
        self.now = recorder.now
        self.sink = sink = recorder.sink()
        req = environ.get(REQ_KEY)
        if req is None:
            req = recorder.new_request_id()
        self.req: int = req
        self.server_start_response = start_response
        self.server_write: Callable[..., Any] | None = None
        self.status: int | None = None
        self.headers: Any = None  # of the start_response call the server accepted
        self.error: BaseException | None = None
        self.route: str | None = None
        self.environ: dict[str, Any] | None = environ
        self.bytes_in = self.bytes_out = 0
        self.responded = False  # a body chunk or write reached the server (headers may be out)
        self.exhausted = self.refused = self.answered_500 = False
        self.done = False
        self.report_t: int | None = None
        self.call_t = 0  # when the app's last call to the server was recorded (see body())
        current = threading.current_thread()
        self.tid = current.ident or 0
        self.thread = thread = current.name
        self.task: str | None = None
        self.checker: Any = None
        factory = shim.checker_factory
        if factory is not None:
            try:
                self.checker = factory(environ, self.report)
            except Exception as exc:
                self.checker_failed(exc)
        fields = shim.start_fields(environ)
        self.seg_t = self.last_t = t = sink.clock() - sink.start_ns
        hub = greenlets.tracer
        if hub is not None and (task := hub.begin(self, t)) is not None:
            self.task = task
            self.tid = hub.tid
            self.thread = thread = hub.thread
        sink.append(
            (
                next(sink.seq),
                t,
                K.REQUEST_START,
                req,
                sink.pid,
                self.tid,
                thread,
                self.task,
                None,
                *fields,
            )
        )
        self.seg_cpu = _thread_time_ns()
        # Last, so that if anything above fails the app gets the server's environ untouched.
        stream = environ.get("wsgi.input")
        if stream is not None:
            environ["wsgi.input"] = TracedInput(stream, self)

    # -- the app call --------------------------------------------------------------------------

    def run(self, environ: dict[str, Any]) -> Any:
        """Call the app; return its response iterable wrapped (or as is: see ``tracer.shim.wsgi``)."""
        try:
            result = self.shim.app(environ, self.start_response)
        except BaseException as exc:
            self.routed(environ)
            self.fail(exc)
            self.finish(close_called=False)
            raise
        self.routed(environ)
        try:
            sink = self.sink
            self.last_t = sink.clock() - sink.start_ns
            file_wrapper = environ.get("wsgi.file_wrapper")
            if isinstance(file_wrapper, type) and isinstance(result, file_wrapper):
                self.file_response(result)
                return result
            if hasattr(type(result), "__len__"):
                return SizedTracedBody(result, self)
            return TracedBody(result, self)
        except Exception as exc:
            self.shim.internal_error("wrapping the response iterable", exc)
            return result

    def routed(self, environ: dict[str, Any]) -> None:
        """Note the route template the app's router left in the environ. Bottle routes the
        request inside the app call (before it returns its iterable), so it is there now;
        read now, the cycle lets go of the environ (which holds the cycle: its input). An app
        that returned before starting its response and left no route (a generator: its router
        has not run yet) keeps it, for ``start_response`` to read; ``finish`` lets go of it."""
        route = environ.get("bottle.route")
        if route is not None:
            self.route = rule_of(route)
        elif self.status is None:
            return
        self.environ = None

    def file_response(self, wrapper: Any) -> None:
        """The app returned the server's own ``wsgi.file_wrapper``: handed back untouched
        but for its ``close``, so the server still sends the file its own way (sendfile) and
        the request lasts until the server closes it, counting the file's bytes as sent."""
        try:
            self.bytes_out += file_length(wrapper, self.headers)
        except Exception as exc:  # a wrapper attribute of the app's that raised: size unknown
            self.shim.internal_error("measuring a wsgi.file_wrapper response", exc)
        self.responded = True
        if not FileWrapperClose.install(wrapper, self):
            self.finish(close_called=None, file_wrapper=True)  # no end to wait for: now

    def start_response(self, status: Any, headers: Any, exc_info: Any = None) -> Any:
        """The ``start_response`` the app sees: record, check, then call the server's."""
        if self.done:  # kept past its request's end: the only cost a correct app pays
            return late_start_response(self, status, headers, exc_info)
        try:
            if _get_ident() != self.tid:
                self.switch_thread()
            verdicts = self.shim.verdicts
            flat: tuple[Any, ...] | None
            try:
                items: list[Any] = []
                add = items.append
                if verdicts is None:  # redaction off
                    for name, value in headers:
                        add(name)
                        add(value)
                else:  # as the request's headers: Set-Cookie hidden, Location's URL redacted
                    for name, value in headers:
                        add(name)
                        verdict = verdicts[name]
                        add(verdicts.hidden(verdict, name, value) if verdict else value)
                flat = tuple(items)
            except (TypeError, ValueError, AttributeError):  # not (str, str) pairs: checked
                flat = None
            sink = self.sink
            self.call_t = t = sink.clock() - sink.start_ns
            sink.append(
                (
                    next(sink.seq),
                    t,
                    K.WSGI_START_RESPONSE,
                    self.req,
                    sink.pid,
                    self.tid,
                    self.thread,
                    self.task,
                    None,
                    _START_RESPONSE_KEYS,
                    status,
                    flat,
                    _exc_name(exc_info),
                )
            )
        except Exception as exc:
            self.shim.internal_error("recording start_response", exc)
        if self.checker is not None:
            try:
                self.checker.start_response(status, headers, exc_info)
            except Exception as exc:
                self.checker_failed(exc)
        if exc_info is None:
            self.server_write = self.server_start_response(status, headers)
        else:
            self.server_write = self.server_start_response(status, headers, exc_info)
        # Only now: a call the server rejected (it raised, say for a second call without
        # exc_info) set no status, so the request's status is the one the server took.
        try:
            self.status = _status_code(status)  # None when malformed: the checker reports it
            self.headers = headers
            # Flask's route: Werkzeug keeps the request in the environ, but Flask takes it out
            # (sets None) before its app call returns, so it is read here, while the app runs.
            # Bottle's too, for an app that routes only once iterated (a generator middleware's).
            environ = self.environ
            if environ is not None:
                if "werkzeug.request" in environ:
                    self.route = url_rule_of(environ["werkzeug.request"])
                elif "bottle.route" in environ:
                    self.route = rule_of(environ["bottle.route"])
                elif self.shim.router is not None:  # Django's, Falcon's: ``routes_apps``
                    self.route = self.shim.router(environ)
        except Exception as exc:
            self.shim.internal_error("recording start_response", exc)
        return self.write

    def write(self, data: Any) -> Any:
        """The ``write`` callable the app sees: the server's, timed and recorded."""
        if self.checker is not None:
            try:
                self.checker.write(data)
            except Exception as exc:
                self.checker_failed(exc)
        elif self.done:  # the checker is dropped at the end: checked only without one
            return late_write(self, data, _size(data))
        t = self.enter()
        server_write: Any = self.server_write  # whatever the server returned, even None
        try:
            result = server_write(data)
        except BaseException as exc:  # the client left, or the server refused the data
            if client_gone(exc):
                self.refusal = exc
            self.write_done(data, t, exc)
            raise
        self.write_done(data, t, None)
        return result

    def write_done(self, data: Any, t: int, exc: BaseException | None) -> None:
        """A ``write`` that started at ``t`` returned, or raised ``exc``: record it.

        One that raised is recorded with ``raised`` (its time was spent in the server, not
        in the app) and counts in no ``bytes_out``: the server did not take the data.
        """
        try:
            end = self.last_t = self.call_t = self.now()
            size = _size(data)
            fields: dict[str, Any] = {"bytes": size}
            if exc is None:
                self.bytes_out += size
                self.responded = True
            else:
                fields["raised"] = type(exc).__name__
                self.refused = True
            self.recorder.emit(
                K.WSGI_WRITE,
                self.req,
                fields,
                t=t,
                dur=end - t,
                tid=self.tid,
                thread=self.thread,
                task=self.task,
            )
        except Exception as internal:
            self.shim.internal_error("recording write", internal)

    # -- hooks for the input and body wrappers ---------------------------------------------------

    def enter(self) -> int:
        """Now, after moving the thread segment if the server switched threads."""
        if _get_ident() != self.tid:
            self.switch_thread()
        sink = self.sink
        return sink.clock() - sink.start_ns

    def input_read(self, method: str, data: Any, t: int) -> None:
        """One read from ``wsgi.input`` returned ``data``; it started at ``t``."""
        try:
            end = self.call_t = self.now()
            if method == "readlines":
                size = sum(map(_size, data))
            elif method == "readinto":
                size = data or 0  # the count read (None: nothing available yet)
            else:
                size = _size(data)
            self.bytes_in += size
            self.recorder.emit(
                K.WSGI_INPUT_READ,
                self.req,
                {"method": method, "bytes": size},
                t=t,
                dur=end - t,
                **self.place(),
            )
        except Exception as exc:
            self.shim.internal_error("recording a wsgi.input read", exc)
        if self.checker is not None:
            try:
                self.checker.input_read(self.bytes_in)
            except Exception as exc:
                self.checker_failed(exc)

    def input_raised(self, method: str, t: int, exc: BaseException) -> None:
        """A read from ``wsgi.input`` that started at ``t`` raised ``exc`` (the client left
        mid-body, a bad chunk): recorded with no bytes, so its blocked time shows as such."""
        try:
            end = self.call_t = self.now()
            self.recorder.emit(
                K.WSGI_INPUT_READ,
                self.req,
                {"method": method, "bytes": 0, "raised": type(exc).__name__},
                t=t,
                dur=end - t,
                **self.place(),
            )
        except Exception as internal:
            self.shim.internal_error("recording a wsgi.input read", internal)

    def body(self, chunk: Any, t: int, source: Any = None) -> None:
        """The app's iterable produced ``chunk``; asking for it started at ``t``.

        A step of the app that called the server (``start_response``, ``write``, a read) or
        broke a rule before it yielded has those events recorded already: the chunk's event
        starts after the last of them, so that a reader sorting by ``(t, seq)`` sees them
        first, as they happened (its ``dur`` is then the rest of the step).
        """
        try:
            sink = self.sink
            end = self.last_t = sink.clock() - sink.start_ns
            if self.call_t > t:
                t = self.call_t
            size = _size(chunk)
            self.bytes_out += size
            self.responded = True
            sink.append(
                (
                    next(sink.seq),
                    t,
                    K.WSGI_BODY,
                    self.req,
                    sink.pid,
                    self.tid,
                    self.thread,
                    self.task,
                    end - t,
                    _BODY_KEYS,
                    size,
                )
            )
        except Exception as exc:
            self.shim.internal_error("recording a body chunk", exc)
        if self.checker is not None:
            try:
                self.checker.body_item(chunk, source)
            except Exception as exc:
                self.checker_failed(exc)

    def closed(self, t: int, *, file_wrapper: bool = False) -> None:
        """The server called ``close()``, which started at ``t`` (and may have raised)."""
        if self.done:
            return
        sink = self.sink
        end = sink.clock() - sink.start_ns
        try:
            sink.append(
                (
                    next(sink.seq),
                    t,
                    K.WSGI_CLOSE,
                    self.req,
                    sink.pid,
                    self.tid,
                    self.thread,
                    self.task,
                    end - t,
                    (),  # packed, no fields: data {}
                )
            )
        except Exception as exc:
            self.shim.internal_error("recording close", exc)
        self.finish(close_called=True, end=end, file_wrapper=file_wrapper)

    def fail(
        self, exc: BaseException, *, in_close: bool = False, headers_held: bool = False
    ) -> None:
        """The app raised ``exc`` (it is re-raised by the caller): record it once.

        ``headers_held``: the server still holds the headers back whatever reached it (it
        asked the body's ``len()`` for a Content-Length, as waitress does with the first
        chunk in hand), so it answers the failure with a 500.
        """
        if exc is self.error:
            return
        if exc is getattr(self, "refusal", None):
            # The server's word, through the app, that the client went (the client may have
            # stopped reading on purpose): the end says so (its error, cut short), and the
            # summary judges it by what the client saw, as a body the server stopped iterating.
            # No error event, and no 500: there is no client left to answer.
            self.error = self.error or exc
            return
        try:
            if self.error is None:
                self.error = exc
            if not in_close and (headers_held or not self.responded):
                # No chunk has reached the server, so neither have the headers: every server
                # answers such a failure with a 500 of its own. (After an empty chunk only,
                # waitress still does, as PEP 3333 asks; gunicorn has sent the app's headers.)
                # SystemExit and KeyboardInterrupt too: the in-process models, gunicorn and
                # asgiref answer them with that 500 (waitress loses its thread to them and
                # answers nothing, which its client's end says).
                self.status = 500
                self.answered_500 = True
            self.recorder.emit(
                K.ERROR,
                self.req,
                {
                    "type": type(exc).__name__,
                    "message": message_of(exc),
                    "where": where_raised(exc.__traceback__, self.shim.app),
                },
                **self.place(),
            )
        except Exception as internal:
            self.shim.internal_error("recording an app error", internal)

    def finish(
        self,
        *,
        close_called: bool | None,
        file_wrapper: bool = False,
        end: int | None = None,
        closable: bool = True,
    ) -> None:
        """The request is over: close its thread segment, let the checker finish, end it.

        ``end`` is now (when the caller just read the clock). Called from another thread
        (a finaliser run by the garbage collector), the segment ends at the last activity.
        ``closable`` is False when the app's own iterable has no ``close()``: a server that
        never calls close then misses nothing (``close_called`` is still recorded as it was).
        """
        if self.done:
            return
        self.done = True
        self.environ = None  # kept by ``routed`` for an app that had not routed yet
        tid: int | None = self.tid
        thread: str | None = self.thread
        sink = self.sink
        if self.task is not None:
            # A greenlet's request: its steps are its time (``tracer.shim.greenlets``).
            end = self.end_steps(end)
        elif _get_ident() == tid:
            end = self.end_segment(end)
        else:
            self.end_segment_elsewhere()
            tid = thread = None  # request.end is then recorded on the finalising thread
        if self.checker is not None:
            # What the checker finds now is dated at the request's end, not after it.
            self.report_t = end if end is not None else self.last_t
            try:
                self.checker.finish(
                    close_called=close_called is not False, error=self.error, closable=closable
                )
            except Exception as exc:
                self.checker_failed(exc)
        try:
            error = None if self.error is None else type(self.error).__name__
            cut = self.cut_short(file_wrapper)
            if tid is None or file_wrapper:  # the rare ends: a dict, and emit names the thread
                data: dict[str, Any] = {
                    "status": self.status,
                    "bytes_in": self.bytes_in,
                    "bytes_out": self.bytes_out,
                    "error": error,
                    "close_called": close_called,
                }
                if file_wrapper:
                    data["file_wrapper"] = True
                if self.route is not None:
                    data["route"] = self.route
                if cut:
                    data["cut_short"] = True
                self.recorder.emit(
                    K.REQUEST_END,
                    self.req,
                    data,
                    t=end,
                    tid=tid,
                    thread=thread,
                    task=None if tid is None else self.task,
                )
            else:
                if end is None:
                    end = sink.clock() - sink.start_ns
                row: tuple[Any, ...] = (
                    next(sink.seq),
                    end,
                    K.REQUEST_END,
                    self.req,
                    sink.pid,
                    tid,
                    thread,
                    self.task,
                    None,
                    _END_CUT_KEYS if cut else _END_KEYS,
                    self.status,
                    self.bytes_in,
                    self.bytes_out,
                    error,
                    close_called,
                )
                route = self.route
                if route is not None:  # the layout with ``route`` after the usual fields
                    keys = _END_ROUTE_CUT_KEYS if cut else _END_ROUTE_KEYS
                    row = (*row[:9], keys, *row[10:], route)
                sink.append((*row, True) if cut else row)
        except Exception as exc:
            self.shim.internal_error("recording request.end", exc)
        self.checker = None  # it holds our report(): let the pair be freed without the GC

    def end_steps(self, end: int | None) -> int:
        """A greenlet's request ends at ``end`` (now, if None): its last step; returns ``end``."""
        sink = self.sink
        if end is None:
            end = sink.clock() - sink.start_ns
        hub = greenlets.tracer
        try:
            if hub is not None:
                hub.end(self, end)
        except Exception as exc:
            self.shim.internal_error("recording the last greenlet step", exc)
        return end

    def end_segment(self, end: int | None) -> int:
        """The request ends on its thread at ``end`` (now, if None): its ``sched.thread``
        from ``seg_t`` with the thread's CPU since; returns ``end``."""
        sink = self.sink
        cpu = _thread_time_ns() - self.seg_cpu
        if end is None:
            end = sink.clock() - sink.start_ns
        # The caller may have read ``end`` before the CPU clock: on one thread, CPU
        # time cannot exceed the wall time around it.
        if cpu > end - self.seg_t:
            cpu = end - self.seg_t
        self.segment_row(end, cpu)
        return end

    def end_segment_elsewhere(self) -> None:
        """The request ends on another thread (a finaliser run by the garbage collector):
        its ``sched.thread`` ends at its last activity, with its thread's CPU read from here."""
        self.segment_row(self.last_t, self.other_thread_cpu())

    def segment_row(self, seg_end: int, cpu: int | None) -> None:
        """Record the ``sched.thread`` of the request's time on ``tid`` up to ``seg_end``."""
        sink = self.sink
        try:
            sink.append(
                (
                    next(sink.seq),
                    self.seg_t,
                    K.SCHED_THREAD,
                    self.req,
                    sink.pid,
                    self.tid,
                    self.thread,
                    None,
                    seg_end - self.seg_t,
                    _THREAD_KEYS,
                    cpu,
                    "wsgi",
                )
            )
        except Exception as exc:
            self.shim.internal_error("recording the thread segment", exc)

    def cut_short(self, file_wrapper: bool) -> bool:
        """Whether the app's response started but did not all go to the server: it has a
        status the server took (not the server's own 500 for an app that raised before its
        headers went), and the server closed or dropped its iterable before the end (PEP 3333:
        a server calls ``close()`` when it is done *or* gives up, the client having left), the
        app raised mid-body, or the server refused a ``write()``. A ``wsgi.file_wrapper`` the
        server sends itself is never judged: its sending is out of sight."""
        return (
            not file_wrapper
            and self.status is not None
            and not self.answered_500
            and (self.refused or not self.exhausted)
        )

    # -- bookkeeping ---------------------------------------------------------------------------

    def other_thread_cpu(self) -> int | None:
        """CPU time of the segment's thread, read from another thread (None if it cannot be).

        Reading a thread's CPU clock costs a system call, so it is not sampled at every chunk;
        when the server hops threads the old thread's clock is read at the hop instead, which
        may include a little of what that thread did after it let the request go.
        """
        try:
            clock = time.pthread_getcpuclockid(self.tid)
            return time.clock_gettime_ns(clock) - self.seg_cpu
        except (AttributeError, OSError, OverflowError):  # not Unix, or the thread is gone
            return None

    def switch_thread(self) -> None:
        """The server moved this request to another thread: end the old segment, start one."""
        try:
            self.recorder.emit(
                K.SCHED_THREAD,
                self.req,
                {"cpu_ns": self.other_thread_cpu(), "via": "wsgi"},
                t=self.seg_t,
                dur=self.last_t - self.seg_t,
                tid=self.tid,
                thread=self.thread,
            )
        except Exception as exc:
            self.shim.internal_error("recording a thread hop", exc)
        current = threading.current_thread()
        self.tid = current.ident or 0
        self.thread = current.name
        self.seg_t = self.last_t = self.now()
        self.seg_cpu = _thread_time_ns()

    def place(self) -> dict[str, Any]:
        """Where an event of the request made now is recorded: for a greenlet's request, its
        OS thread and greenlet (gevent's patched ``threading`` would name the greenlet as a
        thread); otherwise nothing, the calling thread's."""
        if self.task is None:
            return {}
        return {"tid": self.tid, "thread": self.thread, "task": self.task}

    def report(self, rule: str, message: str, **data: Any) -> None:
        """The checker's ``report``: one ``violation`` event of this request."""
        t = self.report_t
        if t is None:  # during the app's calls: a step's chunk is recorded after it
            t = self.call_t = self.now()
        self.recorder.emit(
            K.VIOLATION,
            self.req,
            {"rule": rule, "message": message, **data},
            t=t,
            **self.place(),
        )

    def checker_failed(self, exc: BaseException) -> None:
        """A checker raised: it is switched off for this request and the failure logged once."""
        self.checker = None
        self.shim.internal_error("running the WSGI protocol checker", exc)

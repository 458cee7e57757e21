"""The ``wsgi-on-loop`` server model: a WSGI app behind asgiref's ``WsgiToAsgi`` on a loop.

The event loop is the ``loop`` model's; the app is the traced WSGI app wrapped in asgiref's
``WsgiToAsgi``, which runs it through ``sync_to_async`` on one single-thread executor, so every
request runs on one and the same thread, one at a time, however many arrive: the point of
showing it. The request id reaches the WSGI shim in the environ, as with the ``threads`` model.
The shim is WSGI's, so a request starts when that thread calls the app and the wait for it is
queueing; uvicorn running ``WsgiToAsgi`` traced as ASGI starts it on the loop and counts the
wait inside it (docs/run.md, the paragraph on ``wsgi-on-loop``).

That thread is the model's own (``_OneThread``), not asgiref's process-wide executor: asgiref's is
a ``ThreadPoolExecutor``, whose threads the interpreter joins at exit, so an app that never
returns would keep the process alive after the run (and a late ``start_response`` would reach a
closed loop: coroutines never awaited). Ours is a daemon, left behind like the ``threads``
model's workers; once the model stops, what the app still sends is dropped (its client is gone).
asgiref's ``start_response`` refuses what it refuses (a second call without ``exc_info``, a
status that is not a str or has no code, a header that is not ASCII, a ``Content-Length`` that
is not a number); an app that lets that out before any response gets the loop's 500, and the
recording says 500 too. A header asgiref passes on that the loop's ``send`` refuses (CR or LF in
it, a name that is not a token) is raised where asgiref sends the headers, outside the app: the
client gets the loop's 500, and the recording ends the request so. Any other failure of
asgiref's own, outside the app and the shim (its ``len()`` of a body item that is not bytes
under a ``Content-Length``; an asgiref that fails before the app runs), ends the request as
its client saw it too, with an ``error`` event: the report counts it. A request asgiref
answers 400 itself, without the app (it cannot build the environ: more than 100 values of one
header, a query string that is not ASCII), ends as a request a server refused: its
``request.queued``, then a ``request.end`` with that status and no ``request.start``.
Imports the spine, ``tracer.instrument`` and ``tracer.servers``; never the TUI or exporters.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
import traceback
from collections.abc import Callable
from typing import Any

from asgiref.sync import SyncToAsync, sync_to_async
from asgiref.wsgi import WsgiToAsgi, WsgiToAsgiInstance

import tracer
from tracer import events as K
from tracer.servers.environ import REQ_KEY
from tracer.servers.forks import end_child, forked_child, serve_here
from tracer.servers.job import Job, read_by_app, record_refusal
from tracer.servers.loop import LoopServer
from tracer.servers.waits import monotonic, sleep

__all__ = ["WsgiOnLoopServer", "TracedWsgiToAsgi"]


class _Instance(WsgiToAsgiInstance):  # type: ignore[misc]
    refused_t: int | None = None
    """When asgiref's ``start_response`` raised into the app (recording time), if it did."""
    accounted: BaseException | None = None
    """The exception out of the run that is recorded already: the app's (the shim recorded
    it), a ``send`` the loop refused or a failure of asgiref's own (recorded here)."""
    bytes_sent = 0
    """Response body bytes that went to the loop's ``send``."""
    handed_t: int | None = None
    """When the app's response iterable last handed asgiref a chunk (recording time)."""
    turned_away: BaseException | None = None
    """What asgiref's ``build_environ`` raised, if it did: asgiref then answers 400 itself and
    never calls the app."""
    sent_status: int | None = None
    """The status of the ``http.response.start`` that went to the loop's ``send``, if one did."""

    def build_environ(self, scope: dict[str, Any], body: Any) -> dict[str, Any]:
        try:
            environ: dict[str, Any] = super().build_environ(scope, body)
        except ValueError as exc:
            # asgiref's run catches it and answers 400 without the app (more duplicates of a
            # header than its limit, a query string that is not ASCII): no shim records it.
            self.turned_away = exc
            raise
        extension = scope.get("extensions", {}).get("gateway_tracer")
        if extension is not None:
            environ[REQ_KEY] = extension["req"]
            model = extension.get("model")
            if model is not None:  # on the WSGI thread: the app is about to run this request
                job = model.in_thread = extension.get("job")
                if job is not None:  # what it reads comes from asgiref's copy of the body
                    job.read_so_far = lambda: read_by_app(body)
        client = scope.get("client")
        if client is not None:
            environ["REMOTE_PORT"] = str(client[1])
        return environ

    async def run_wsgi_app(self, body: Any) -> None:
        extension = self.scope.get("extensions", {}).get("gateway_tracer", {})
        model: WsgiOnLoopServer | None = extension.get("model")
        if model is None:  # outside the model: asgiref's own way, on its shared thread
            await sync_to_async(self._run_wsgi_app)(body)
            return
        send = self._refusing(model, model.sends.wrap(self.sync_send))
        self.sync_send = send  # type: ignore[assignment]
        self.wsgi_application = _AppSide(self.wsgi_application, self, model.recorder.now)
        # thread_sensitive=False only so that asgiref takes our one thread as the executor
        # (any concurrent.futures.Executor does: it goes to loop.run_in_executor).
        run = SyncToAsync(
            self._run_wsgi_app,
            thread_sensitive=False,
            executor=model.executor,  # type: ignore[arg-type]
        )
        await run(body)

    def start_response(self, status: Any, response_headers: Any, exc_info: Any = None) -> Any:
        """asgiref's, noting when it refuses the call (the app may let the exception out)."""
        try:
            return super().start_response(status, response_headers, exc_info)
        except Exception:
            model = self.scope.get("extensions", {}).get("gateway_tracer", {}).get("model")
            if model is not None:
                self.refused_t = model.recorder.now()
            raise

    def _refusing(
        self, model: WsgiOnLoopServer, send: Callable[[dict[str, Any]], None]
    ) -> Callable[[dict[str, Any]], None]:
        """``send``, and when the server cannot send what the app gave (a header the loop
        refuses, a body item that is not bytes), the request's end as its client saw it: the
        shim saw nothing fail."""

        def refusing(message: dict[str, Any]) -> None:
            try:
                send(message)
            except Exception as exc:
                self.accounted = exc
                extension = self.scope.get("extensions", {}).get("gateway_tracer", {})
                job = extension.get("job")
                status: Any = None
                if message.get("type") == "http.response.start":
                    status = 500  # nothing went out: the loop answers 500
                elif self.response_started:
                    status = self.response_start["status"]
                record_refusal(
                    model.recorder,
                    extension.get("req"),
                    exc,
                    status=status,
                    bytes_in=job.bytes_read() if job is not None else 0,
                    bytes_out=self.bytes_sent,
                )
                raise
            if message.get("type") == "http.response.body":
                self.bytes_sent += len(message.get("body", b""))
            elif message.get("type") == "http.response.start":
                self.sent_status = message.get("status")

        return refusing

    def _run_wsgi_app(self, body: Any) -> None:
        try:
            _RUN_WSGI_APP(self, body)
        except BaseException as exc:
            if self.refused_t is not None and not self.response_started:
                self._record_refused(exc)
                self.accounted = exc
            elif exc is not self.accounted:
                # Neither the app's nor a refused send: asgiref's own code failed on what it
                # was given (``len()`` of a body item that is not bytes, under a
                # Content-Length).
                self.record_failure(exc)
            # asgiref drops the response iterable unclosed when iterating it raises, and the
            # traced iterable ends its request when dropped. But the exception's traceback
            # holds it (the frame of its ``__next__``), and the request holds the exception:
            # a reference cycle, so the request would end only when the garbage collector
            # got to it, or never. The frames are done with; clearing them drops it now.
            traceback.clear_frames(exc.__traceback__)
            raise
        else:
            if self.turned_away is not None:
                self._record_turned_away()
        finally:
            # On the WSGI thread, after the traced app (and so its request.end): the request is
            # done even when its task was cancelled meanwhile and no longer waits for it.
            extension = self.scope.get("extensions", {}).get("gateway_tracer", {})
            job = extension.get("job")
            if job is not None:
                job.finished = True
                extension["model"].in_thread = None

    def _record_turned_away(self) -> None:
        """asgiref answered the request itself (its 400) without calling the app: the request
        ends as a server's refusal is recorded, ``request.queued`` and this end with no
        ``request.start`` between, the status and body bytes its client got and no error (the
        app raised nothing). Nothing went out when the model had stopped first: cancelled."""
        extension = self.scope.get("extensions", {}).get("gateway_tracer", {})
        model: WsgiOnLoopServer | None = extension.get("model")
        if model is None:
            return
        status = self.sent_status
        end = {
            "status": status,
            "bytes_in": 0,  # the app never ran, so it read nothing of the body
            "bytes_out": self.bytes_sent,
            "error": None if status is not None else "cancelled",
        }
        model.recorder.emit(K.REQUEST_END, extension.get("req"), end)

    def record_failure(self, exc: BaseException) -> None:
        """The adapter failed outside the app and the shim (``exc``): recorded as its client
        saw it (``_record_failure``), once. Dated when the app last handed it a chunk, which
        it failed on: the response iterable is dropped as the exception leaves asgiref's
        loop, and the shim's end with it, before this runs; readers take the first end."""
        self.accounted = exc
        status: Any = self.response_start["status"] if self.response_started else 500
        _record_failure(self.scope, exc, status=status, bytes_out=self.bytes_sent, t=self.handed_t)

    def _record_refused(self, exc: BaseException) -> None:
        """asgiref refused a ``start_response`` and the app let the exception out before any
        response: the client gets the loop's 500, which the shim's end (the status the app
        gave, if any) does not say. The end as the client saw it, dated at the refusal."""
        extension = self.scope.get("extensions", {}).get("gateway_tracer", {})
        model: WsgiOnLoopServer | None = extension.get("model")
        if model is None:
            return
        job = extension.get("job")
        record_refusal(
            model.recorder,
            extension.get("req"),
            exc,
            status=500,
            bytes_in=job.bytes_read() if job is not None else 0,
            bytes_out=0,
            t=self.refused_t,
            raised=True,
        )


_RUN_WSGI_APP = WsgiToAsgiInstance.__dict__["run_wsgi_app"].func


def _record_failure(
    scope: dict[str, Any],
    exc: BaseException,
    *,
    status: int,
    bytes_out: int,
    t: int | None = None,
) -> None:
    """asgiref failed outside the app and the shim (``exc``): an ``error`` and the request's
    end as its client saw it (the loop's 500, or the status already sent, with the body bytes
    sent), both at ``t`` (now when None), so that the report counts it. Nothing outside the
    model (no request of ours)."""
    extension = scope.get("extensions", {}).get("gateway_tracer", {})
    model: WsgiOnLoopServer | None = extension.get("model")
    if model is None:
        return
    job = extension.get("job")
    req = extension.get("req")
    recorder = model.recorder
    if t is None:
        t = recorder.now()
    error = type(exc).__name__
    recorder.emit(K.ERROR, req, {"type": error, "message": str(exc), "where": None}, t=t)
    bytes_in = job.bytes_read() if job is not None else 0
    end = {"status": status, "bytes_in": bytes_in, "bytes_out": bytes_out, "error": error}
    recorder.emit(K.REQUEST_END, req, end, t=t)


class _AppSide:
    """The traced app as asgiref calls it: what its call or its response iterable raises is
    the app's (the shim has recorded it), noted as such on the instance (``accounted``), so
    that anything else out of asgiref's run is known to be the adapter's own failure."""

    __slots__ = ("_app", "_instance", "_now")

    def __init__(self, app: Any, instance: _Instance, now: Callable[[], int]) -> None:
        self._app = app
        self._instance = instance
        self._now = now

    def __call__(self, environ: dict[str, Any], start_response: Any) -> _AppBody:
        try:
            return _AppBody(self._app(environ, start_response), self._instance, self._now)
        except BaseException as exc:
            self._instance.accounted = exc
            raise


class _AppBody:
    """The response iterable the shim returned, stepped for asgiref (which only iterates it
    and drops it: the shim's end comes with the drop, as without this)."""

    __slots__ = ("_body", "_steps", "_instance", "_now")

    def __init__(self, body: Any, instance: _Instance, now: Callable[[], int]) -> None:
        self._body = body
        self._steps: Any = None
        self._instance = instance
        self._now = now

    def __iter__(self) -> _AppBody:
        return self

    def __next__(self) -> Any:
        try:
            if self._steps is None:
                self._steps = iter(self._body)
            chunk = next(self._steps)
        except StopIteration:
            raise
        except BaseException as exc:
            self._instance.accounted = exc
            raise
        self._instance.handed_t = self._now()
        return chunk


class _OneThread(concurrent.futures.Executor):
    """One daemon thread running the calls submitted to it in order: a WSGI app that never
    returns is left behind at exit (a ``ThreadPoolExecutor``'s threads are joined then)."""

    # The name asgiref's executor thread has in a fresh process (and the simulator's).
    thread_name = "ThreadPoolExecutor-0_0"

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[tuple[concurrent.futures.Future[Any], Any] | None]
        self._calls = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._started = False
        self.thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)

    def submit(  # type: ignore[override]
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        """Queue ``fn(*args, **kwargs)``; the thread starts with the first call."""
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            if not self._started:
                self._started = True
                self.thread.start()
            self._calls.put((future, lambda: fn(*args, **kwargs)))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """No more calls; the thread ends after the one it runs (if it ever returns)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if cancel_futures:
                while True:
                    try:
                        item = self._calls.get_nowait()
                    except queue.Empty:
                        break
                    if item is not None:
                        item[0].cancel()
            self._calls.put(None)
        if wait and self._started:
            self.thread.join()

    def _run(self) -> None:
        serve_here()  # a child the app forks on this thread is the app's (tracer.servers.forks)
        while True:
            item = self._calls.get()
            if item is None:
                return
            future, call = item
            del item
            if future.set_running_or_notify_cancel():  # False: its task was cancelled first
                try:
                    result = call()
                except BaseException as exc:  # as ThreadPoolExecutor: the caller gets it
                    if forked_child():  # the app forked here: its child ends with its exit
                        end_child(exc)
                    future.set_exception(exc)
                else:
                    if forked_child():  # the app's code returned in the child it forked
                        end_child()
                    future.set_result(result)
            del future, call


class _Sends:
    """The WSGI thread's ``send``s to the loop, until the model stops: then dropped.

    After the loop is gone, asgiref's ``AsyncToSync`` would make the ``send`` coroutine, fail to
    schedule it, and start a new loop on another thread for it (or, at interpreter exit, leave
    it never awaited). ``close`` waits for a send already on its way, so none is cut off.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._open = True
        self._busy = 0

    def wrap(self, sync_send: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
        """``sync_send`` while the model runs; a no-op once it stopped (the client is gone)."""

        def send(message: dict[str, Any]) -> None:
            with self._changed:
                if not self._open:
                    return
                self._busy += 1
            try:
                sync_send(message)
            finally:
                with self._changed:
                    self._busy -= 1
                    self._changed.notify_all()

        return send

    def close(self, timeout: float) -> None:
        """Drop every later send; wait (within ``timeout``) for those under way to arrive."""
        with self._changed:
            self._open = False
            self._changed.wait_for(lambda: self._busy == 0, timeout)


class TracedWsgiToAsgi(WsgiToAsgi):  # type: ignore[misc]
    """asgiref's ``WsgiToAsgi``, passing the request id from the scope into the environ."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        instance: _Instance | None = None
        try:
            instance = _Instance(self.wsgi_application, self.duplicate_header_limit)
            await instance(scope, receive, send)
        except asyncio.CancelledError:
            raise  # the run's stop (the model ends the request), or the app's own: recorded
        except BaseException as exc:
            # asgiref failing before the WSGI thread ran the app (receiving the body, or
            # an asgiref whose WsgiToAsgi lacks what this subclass passes on): every request
            # would fail with no end recorded, and the report say no errors.
            if instance is None or exc is not instance.accounted:
                _record_failure(scope, exc, status=500, bytes_out=0)  # nothing was sent
                job = scope.get("extensions", {}).get("gateway_tracer", {}).get("job")
                if job is not None:
                    job.finished = True  # no thread will run it
            raise


class WsgiOnLoopServer(LoopServer):
    """WSGI through ``WsgiToAsgi`` on one event loop: one shared thread runs every request."""

    name = "wsgi-on-loop"
    serves = ("wsgi",)

    def _prepare(self, app: Any, interface: str) -> Any:
        traced = tracer.instrument(
            app,
            recorder=self.recorder,
            interface="wsgi",
            redact=self.config.redact,
            checks=self.config.checks,
        )
        self.executor = _OneThread()
        """The one thread every request runs on (asgiref's ``sync_to_async`` thread)."""
        self.sends = _Sends()
        return TracedWsgiToAsgi(traced)

    ends_in_task = False  # the WSGI thread says when the app is done (see _Instance)

    in_thread: Job | None = None
    """The request the shared WSGI thread is running, if any."""

    def record_refused(self, job: Job, refused: Exception, t: int | None, *, raised: bool) -> None:
        """Recorded already, on the WSGI thread, where the send raised (``_Instance``)."""

    def hand_over(self, job: Job, scope: dict[str, Any]) -> None:
        """The job rides in the scope to the WSGI thread, which marks it finished."""
        extension = scope["extensions"]["gateway_tracer"]
        extension["job"] = job
        extension["model"] = self
        # asgiref receives the whole body before it calls the app: what the app read is
        # counted from its copy, once it has one (``_Instance.build_environ``), not here.
        job.read_so_far = None

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop, then wait (within ``timeout``) for the request the thread runs.

        A cancelled task does not wait for the thread running its request, so without this
        the run would end that request as cancelled while the app still finishes it. What the
        app sends from now on is dropped (the loop is going); a thread stuck in the app is
        left behind, a daemon, as the ``threads`` model's workers are.
        """
        deadline = monotonic() + timeout
        self.sends.close(min(timeout, 1.0))
        super().stop(timeout)
        job = self.in_thread
        while job is not None and not job.finished and monotonic() < deadline:
            sleep(0.01)
        self.executor.shutdown(wait=False, cancel_futures=True)

    def describe(self) -> dict[str, Any]:
        """``{"model": "wsgi-on-loop", "threads": 1, "workers": 1}``: one sync_to_async thread."""
        return {"model": self.name, "threads": 1, "workers": 1}

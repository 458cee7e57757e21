"""The ``loop`` server model: ASGI on one asyncio event loop, one task per request (uvicorn's).

The loop runs on its own thread. A request arrives on the load generator's loop
(``request.queued``), is handed to the server loop, and becomes a task there; the task waits for
the loop like a request waits for a busy uvicorn. Lifespan startup/shutdown run when the app
supports them, as uvicorn's ``lifespan="auto"`` runs them: an app that raises in lifespan (or
returns without answering startup) is served without it (its requests' scopes still have
``state``, what the lifespan put there, as uvicorn's have), and one that sends
``lifespan.startup.failed`` is not served at all (``start`` raises ``ServerError`` with its
message, as uvicorn exits). A response start whose headers uvicorn could not write raises into
the app's ``send`` (``scope.check_headers``); if no other response starts, the client gets a 500
and the recording says 500 too.
At shutdown, tasks still running are cancelled and a loop stuck in a blocking call is left
behind (its thread is a daemon), so a hung app never hangs the run; an app that keeps calling
``receive()`` after its disconnect (which never suspends) is let go of its loop by ``receive``
itself once the stop began (``scope._Cycle``), so its task is cancelled too. A lifespan startup
has a bound of its own (``STARTUP_TIMEOUT``), a lifespan shutdown what is left of the stop's
``timeout``; giving up on the shutdown leaves one line in ``notices``.
An app that stops the loop under the model (``asyncio.get_running_loop().stop()``) ends it as
it ends uvicorn ("Event loop stopped before Future completed."): an ``error`` on the request
that stopped it, the tasks in flight cancelled, the load stopped, and ``exit_code`` 1 (uvicorn's)
for the CLI's line about a server that exited by itself.
Imports the spine, ``tracer.instrument`` and ``tracer.servers``; never the TUI or exporters.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import sys
import threading
from typing import Any

import tracer
from tracer import events as K
from tracer.errors import ServerError
from tracer.loops import new_loop, real_time, run_until_stopped
from tracer.recorder import Recorder, first_request_id
from tracer.servers import Request, Response, ServerConfig, Target
from tracer.servers.forks import end_child, forked_child, serve_here
from tracer.servers.job import Job, JobTarget, load_app_for, record_refusal
from tracer.servers.last_step import LastStep
from tracer.servers.mailbox import Mailbox
from tracer.servers.scope import (
    ASGI_VERSION,
    CLOSED_WITH_ERROR,
    DROPPED_SESSION,
    HttpCycle,
    ScopeBuilder,
    WebSocketCycle,
)

__all__ = ["LoopServer", "STARTUP_TIMEOUT", "shutdown_failed_notice"]

STARTUP_TIMEOUT = 30.0
"""Seconds the app's lifespan startup may take, whatever ``--timeout`` says: that bounds a
request, and a startup may connect to a database or load a model (real servers have a start
bound of their own too). Ctrl-C stops a start that hangs at once."""

STOP_POLL = 0.05
"""How often a start waiting for the lifespan startup looks at its ``stop`` event."""

LOOP_STOPPED = "Event loop stopped before Future completed."
"""What uvicorn dies of when the app stops its loop (``asyncio.run``'s ``RuntimeError``)."""


class LoopServer:
    """An ASGI app on one event loop thread; ``send`` suspends only under backpressure (never)."""

    name = "loop"
    serves: tuple[str, ...] = ("asgi",)
    ends_in_task = True
    """The app is done with a request when its task is (False: the model marks it itself)."""

    def __init__(self, config: ServerConfig, recorder: Recorder) -> None:
        app, interface = load_app_for(config, self.name, self.serves)
        self.config = config
        self.recorder = recorder
        self.interface = interface
        self.app = self._prepare(app, interface)
        self.loop = new_loop()  # asyncio's own, whatever policy the app set at import
        self.thread = threading.Thread(target=self._run_loop, name="event-loop", daemon=True)
        self.state: dict[str, Any] = {}
        """The lifespan's ``scope["state"]``: each request's scope gets a shallow copy, always,
        as uvicorn's do (``app_state.copy()``): also when the lifespan raised, is unsupported or
        returned without answering startup; what the app put in it before that stays in it."""
        self._scopes = ScopeBuilder(http_version=config.http_version)
        self.lifespan = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._lifespan_queue: asyncio.Queue[dict[str, Any]] | None = None
        self._lifespan_waiter: asyncio.Future[bool] | None = None
        self.startup_failed: str | None = None
        """The app's message when it sent ``lifespan.startup.failed`` (then it is not served)."""
        self._lifespan_task: asyncio.Task[None] | None = None
        self._shutdown_failed = False
        """The app sent ``lifespan.shutdown.failed`` (its line is in ``notices``)."""
        self._stopping = threading.Event()
        """Set when ``stop`` begins: a ``receive()`` that would not suspend yields first."""
        self.notices: list[str] = []
        """One line each about what the server gave up on while it stopped (a lifespan
        shutdown that did not finish in time), for the CLI to print after the run."""
        self.exit_code: int | None = None
        """1 once the app stopped the loop under the model: uvicorn's exit code then."""
        self.stopped_by: tuple[int | None, str] | None = None
        """The request whose code called ``loop.stop()`` (None: no traced request's) and the
        line of that call, when it was not the model's own stop."""
        self._load_stop: threading.Event | None = None
        self._watch_stops()
        self._target = _LoopTarget(self)

    def _prepare(self, app: Any, interface: str) -> Any:
        return tracer.instrument(
            app,
            recorder=self.recorder,
            interface="asgi",
            block_threshold_ms=self.config.block_threshold_ms,
            redact=self.config.redact,
            checks=self.config.checks,
        )

    @property
    def target(self) -> Target:
        """Requests become tasks on the server loop."""
        return self._target

    def describe(self) -> dict[str, Any]:
        """``{"model": "loop", "threads": 1, "workers": 1}``."""
        return {"model": self.name, "threads": 1, "workers": 1}

    @property
    def exit_subject(self) -> str:
        """Who ``exit_code`` is about, in the CLI's line."""
        return f"--server {self.name} (its event loop)"

    exit_effect = (
        "the app stopped the loop (loop.stop()), which ends uvicorn so; the requests in "
        "flight were cancelled and the load was stopped"
    )
    """What followed, in the CLI's line."""

    def output(self) -> str:
        """What uvicorn would have said last (the CLI quotes it): its exception, if any."""
        return f"RuntimeError: {LOOP_STOPPED}" if self.exit_code is not None else ""

    def watch_exit(self, stop: threading.Event) -> None:
        """Set ``stop`` if the app stops the loop during the load (``exit_code`` says so)."""
        self._load_stop = stop
        if self.exit_code is not None:
            stop.set()

    def start(self) -> None:
        """Start the loop thread and run lifespan startup (bounded)."""
        self.start_until(None)

    def start_until(self, stop: threading.Event | None) -> None:
        """``start``, unless ``stop`` is set first: then the lifespan startup is given up on and
        it returns (the run was stopped while the app started: not a failure). Without it, a
        Ctrl-C during a startup that hangs waited out the 30 s bound; uvicorn stops at once."""
        serve_here()  # a child the app forks on the loop is the app's (tracer.servers.forks)
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(self._startup(), self.loop)
        deadline = real_time() + STARTUP_TIMEOUT  # the real clock: an app may freeze time.monotonic
        while True:
            try:
                self.lifespan = future.result(timeout=STOP_POLL)
                break
            except concurrent.futures.TimeoutError:
                if stop is not None and stop.is_set():
                    future.cancel()  # the lifespan task itself is cancelled at stop()
                    return
                if real_time() >= deadline:
                    raise ServerError(
                        f"The app's lifespan startup did not finish within {STARTUP_TIMEOUT:g} "
                        "s; fix its startup handler."
                    ) from None
        if self.startup_failed is not None:
            # uvicorn logs the message and exits (code 3) without serving: so does the run.
            self.stop(timeout=1.0)
            said = f': "{self.startup_failed}"' if self.startup_failed else " (without a message)"
            raise ServerError(
                f"The app's lifespan startup failed{said}. It sent lifespan.startup.failed, "
                "and uvicorn does not serve such an app either; fix its startup handler."
            )

    def stop(self, timeout: float = 5.0) -> None:
        """Lifespan shutdown, cancel leftover tasks, stop the loop; never past ``timeout``."""
        if not self.loop.is_running():
            return
        self._stopping.set()
        done = threading.Event()

        def begin() -> None:
            # The coroutine is made on the loop, so a loop that never gets here leaves none
            # un-awaited behind.
            task = self.loop.create_task(self._shutdown(timeout))
            task.add_done_callback(lambda _: done.set())

        self.loop.call_soon_threadsafe(begin)
        if not done.wait(timeout):
            # A loop stuck in a blocking call: leave it (the thread is a daemon), but record
            # the step that holds it, which would otherwise never end and never be recorded.
            from tracer.shim.blocking import record_stuck_steps

            record_stuck_steps()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout)

    # -- on the server loop ------------------------------------------------------------------

    def _run_loop(self) -> None:
        # Tasks the loop never got back to (it was stuck): cancelled, as asyncio.run does.
        run_until_stopped(self.loop, after_run=self._loop_stopped)

    def _watch_stops(self) -> None:
        """Note who calls ``loop.stop()`` other than the model (the app): the request and the
        line, for the error recorded once the loop has stopped."""
        loop = self.loop
        own_stop = loop.stop

        def stop() -> None:
            if self.stopped_by is None and not self._stopping.is_set():
                from tracer.shim.context import current

                caller = sys._getframe(1)
                request = current()
                self.stopped_by = (
                    request.req if request is not None else None,
                    f"{caller.f_code.co_filename}:{caller.f_lineno}",
                )
            own_stop()

        try:
            setattr(loop, "stop", stop)  # noqa: B010 - mypy refuses assigning a method
        except AttributeError:  # a loop of a C type (uvloop's): noticed, without the request
            pass

    def _loop_stopped(self) -> None:
        """The loop stopped. Unless the model was stopping, the app stopped it: uvicorn's
        process ends then; so does the run: the error on the request that did it, the
        tasks in flight cancelled (by ``run_until_stopped``), the load stopped."""
        if self._stopping.is_set():
            return
        self.exit_code = 1
        req, where = self.stopped_by if self.stopped_by is not None else (None, None)
        self.recorder.emit(
            K.ERROR,
            req,
            {"type": "RuntimeError", "message": LOOP_STOPPED, "where": where},
        )
        if self._load_stop is not None:
            self._load_stop.set()

    def spawn(self, job: Job) -> None:
        """Start the task of one request (called on the server loop)."""
        if not job.claim():
            return  # the client left while the request waited for the loop
        request = job.request
        scope = self._scopes(request, job.req, self.state)
        cycle: HttpCycle | WebSocketCycle
        if request.websocket:
            cycle = ws = WebSocketCycle(
                request.ws_messages, now=self.recorder.now, stopping=self._stopping
            )
            job.read_so_far = lambda: ws.bytes_in
            cycle.on_complete = lambda: self._session_over(job, ws)
        else:
            cycle = http = HttpCycle(request.body, now=self.recorder.now, stopping=self._stopping)
            # What receive() has handed the app (the ASGI shim's bytes_in), for an end the
            # model records itself: a timeout, a refused response.
            job.read_so_far = lambda: http._offset
            cycle.on_complete = lambda: job.resolve(Response(job.req, http.status, http.bytes_out))
        # What the client has had (the status once the response started), for the same ends.
        job.sent_so_far = lambda: (cycle.status, cycle.bytes_out)
        job.on_abandon = lambda: self._call_soon(cycle.disconnect)
        self.hand_over(job, scope)
        name = f"request-{job.req}"
        task = self.loop.create_task(self._serve(job, scope, cycle, name), name=name)
        if not task.done():  # an eager task may have finished already, and taken itself out
            self._tasks.add(task)  # _serve takes it out (cheaper than a done callback per task)

    def _session_over(self, job: Job, cycle: WebSocketCycle) -> None:
        """A websocket session ended (the app closed it, or the client did). One the app
        closed with a code that says it broke is an error for its client, as the network
        client judges a real server's close frame: its end for the client, dated at the
        close, comes before the shim's (readers take the first), with the code the client
        got (``close_code``), and its ``Response`` says so."""
        error = None
        if cycle.broke:
            error = CLOSED_WITH_ERROR
            data = {
                "status": cycle.status,
                "bytes_in": cycle.bytes_in,
                "bytes_out": cycle.bytes_out,
                "error": error,
                "close_code": cycle.wire_close_code,
            }
            self.recorder.emit(K.REQUEST_END, job.req, data)
        job.resolve(Response(job.req, cycle.status, cycle.bytes_out, error))

    def _record_unsaid_close(self, job: Job, cycle: WebSocketCycle, error: str | None) -> None:
        """The app is done with a websocket session whose client got a close its messages do
        not say (``WebSocketCycle.unsaid_close_code``: a close code uvicorn changes on the
        wire, the client's close the app never read): its end for the client, dated when the
        session ended for it, before the shim's (readers take the first), with that
        ``close_code``, so the summary counts the session under it as under uvicorn. Its
        ``error`` is the shim's (the app's, or ``cancelled``). A session that broke has had
        its end at the close (``_session_over``)."""
        code = cycle.unsaid_close_code
        if code is None or cycle.broke:
            return
        data = {
            "status": cycle.status,
            "bytes_in": cycle.bytes_in,
            "bytes_out": cycle.bytes_out,
            "error": error,
            "close_code": code,
        }
        self.recorder.emit(K.REQUEST_END, job.req, data, t=cycle.closed_t)

    def _record_dropped(self, job: Job, cycle: WebSocketCycle, steps: LastStep | None) -> str:
        """The app returned from a websocket session without a close while its client still
        waited for a reply (``WebSocketCycle.dropped``): uvicorn closes the connection
        without a close frame as the app returns, which the network client records as a
        failure. Its end for the client, with that error (``DROPPED_SESSION``) and no
        ``close_code`` (it got none), dated as the app returned: the later of its last
        ``receive()`` or ``send()`` and the start of the step it returned in (``steps``), the
        last the model saw of it before the shim's end (error-free, the app's view), which
        readers, taking the first end, would otherwise take. Returns the error, for the
        ``Response``."""
        data = {
            "status": cycle.status,
            "bytes_in": cycle.bytes_in,
            "bytes_out": cycle.bytes_out,
            "error": DROPPED_SESSION,
        }
        began = None if steps is None else steps.began
        seen = [t for t in (cycle.last_call_t, began) if t is not None]
        self.recorder.emit(K.REQUEST_END, job.req, data, t=max(seen) if seen else None)
        return DROPPED_SESSION

    def hand_over(self, job: Job, scope: dict[str, Any]) -> None:
        """Prepare ``scope`` for ``job`` before its task starts (a subclass's hook)."""

    def _call_soon(self, callback: Any) -> None:
        self.loop.call_soon_threadsafe(callback)

    async def _serve(
        self, job: Job, scope: dict[str, Any], cycle: HttpCycle | WebSocketCycle, name: str
    ) -> None:
        error: str | None = None
        # Named before the app runs: under a task factory (the app's
        # ``asyncio.eager_task_factory``), ``create_task`` names the task only once the
        # factory returned, and an eager task's first step, where the shim reads the name,
        # has run by then: its events would say Task-N.
        task = asyncio.current_task()
        if task is not None:
            task.set_name(name)
        # A websocket app's steps are timed: when it returned, for the model's own end of a
        # session it dropped (``_record_dropped``). An HTTP request has no such end.
        steps: LastStep | None = None
        try:
            running = self.app(scope, cycle.receive, cycle.send)
            if isinstance(cycle, WebSocketCycle):
                running = steps = LastStep(running, self.recorder.now)
            await running
            if forked_child():  # the app's code returned in a child it forked: it is done
                end_child()
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                error = "cancelled"
                raise
            # A CancelledError the app raised on its own (nothing cancelled its task):
            # uvicorn catches it as any other failure and answers 500.
            error = "CancelledError"
        except BaseException as exc:  # the app's failure is data; the client gets a 500
            # SystemExit and KeyboardInterrupt included, as uvicorn does: raised out of a
            # task they would stop the server's loop. Not in a child the app forked: there
            # they end the child (tracer.servers.forks).
            if forked_child():
                end_child(exc)
            error = type(exc).__name__
        finally:
            if cycle.status is None and not cycle.complete:
                # Returned or raised without a response: uvicorn answers 500, to a websocket
                # handshake the app never answered too (403 is for a close before accept).
                cycle.status = 500
                if isinstance(cycle, HttpCycle) and cycle.refused is not None:
                    refused, cycle.refused = cycle.refused, None  # its traceback holds the cycle
                    if error != "cancelled":
                        self.record_refused(job, refused, cycle.refused_t, raised=error is not None)
            if isinstance(cycle, WebSocketCycle):
                self._record_unsaid_close(job, cycle, error)
                # (Once the stop began, the load has no clients left: the stop ended the session.)
                if error is None and cycle.dropped and not self._stopping.is_set():
                    error = self._record_dropped(job, cycle, steps)
            if not cycle.complete or error is not None:
                job.resolve(Response(job.req, cycle.status, cycle.bytes_out, error))
            cycle.complete = True
            if self.ends_in_task:
                job.finished = True  # the shim has recorded its request.end
            self._tasks.discard(asyncio.current_task())  # type: ignore[arg-type]

    def record_refused(self, job: Job, refused: Exception, t: int | None, *, raised: bool) -> None:
        """``send`` refused the app's response start (``refused``, at ``t``) and no other went
        out: the request ends as its client saw it, a 500 dated at the refusal, before the
        shim's own end (which has no status: the app's start was not taken). ``raised``: the
        app let an exception out, which the shim recorded as its error."""
        record_refusal(
            self.recorder,
            job.req,
            refused,
            status=500,
            bytes_in=job.bytes_read(),
            bytes_out=0,
            t=t,
            raised=raised,
        )

    async def _startup(self) -> bool:
        self.state = {}
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._lifespan_queue = queue
        self._lifespan_waiter = self.loop.create_future()
        scope = {
            "type": "lifespan",
            "asgi": dict(ASGI_VERSION),
            "state": self.state,
            # The server's own connection, not a client's request: the first id of this
            # process's own range, as uvicorn's lifespan has in its process (a real server
            # process numbers what it makes up itself so, ``tracer.servers.real.bootstrap``),
            # so that the client's requests keep 1, 2, ... under this model as under uvicorn.
            "extensions": {"gateway_tracer": {"req": first_request_id(os.getpid())}},
        }
        task = self.loop.create_task(self._lifespan(scope, queue), name="lifespan")
        self._lifespan_task = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        await queue.put({"type": "lifespan.startup"})
        return await self._lifespan_waiter

    async def _lifespan(self, scope: dict[str, Any], queue: asyncio.Queue[dict[str, Any]]) -> None:
        async def send(message: dict[str, Any]) -> None:
            kind = message.get("type")
            if kind == "lifespan.startup.failed" and self.startup_failed is None:
                self.startup_failed = _said(message)
            elif kind == "lifespan.shutdown.failed" and not self._shutdown_failed:
                # uvicorn logs it as an error ("Application shutdown failed. Exiting."); the
                # run says it after the run, not on the live dashboard's screen.
                self._shutdown_failed = True
                self.notices.append(shutdown_failed_notice(_said(message)))
            waiter = self._lifespan_waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(
                    kind in ("lifespan.startup.complete", "lifespan.shutdown.complete")
                )

        try:
            await self.app(scope, queue.get, send)
        except BaseException:
            pass  # an app without lifespan raises on the scope: served without it, as "auto"
        finally:
            waiter = self._lifespan_waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(False)

    async def _shutdown(self, timeout: float) -> None:
        began = self.loop.time()
        requests = [task for task in self._tasks if task is not self._lifespan_task]
        if requests:
            # Requests still running when the load ended are mostly past their response
            # (Starlette's BackgroundTasks run after the body is sent): let them finish, as
            # uvicorn does before lifespan shutdown, instead of cancelling them as failures.
            await asyncio.wait(requests, timeout=timeout * 0.4)
        if self.lifespan and self._lifespan_queue is not None:
            self._lifespan_waiter = self.loop.create_future()
            await self._lifespan_queue.put({"type": "lifespan.shutdown"})
            left = max(0.0, timeout * 0.7 - (self.loop.time() - began))
            try:
                await asyncio.wait_for(asyncio.shield(self._lifespan_waiter), left)
            except TimeoutError:
                # Its task is cancelled below, and the recording ends it so; without a line
                # the cut would pass unnoticed (uvicorn would wait on it for ever).
                self.notices.append(
                    f"the app's lifespan shutdown did not finish within {left:.1f} s (what "
                    "was left of the server's stop); it was cancelled: fix its shutdown handler."
                )
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            # A task may outlive its cancellation for a while (one waiting for a thread that
            # runs its request): give those most of the time left, so their requests end.
            await asyncio.wait(tasks, timeout=max(0.0, timeout * 0.9 - (self.loop.time() - began)))


def _said(message: dict[str, Any]) -> str:
    """A lifespan ``*.failed`` message's ``message`` on one line, at most 300 characters ("":
    none, or not a str)."""
    text = message.get("message")
    return " ".join(text.split())[:300] if isinstance(text, str) else ""


_FAILED = "lifespan.shutdown.failed"


def shutdown_failed_notice(said: str) -> str:
    """The line for an app that sent ``lifespan.shutdown.failed`` with message ``said``."""
    if said:
        return f'warning: the app\'s lifespan shutdown failed: "{said}" (it sent {_FAILED}).'
    return f"warning: the app's lifespan shutdown failed (it sent {_FAILED} without a message)."


class _LoopTarget(JobTarget):
    def __init__(self, server: LoopServer) -> None:
        super().__init__(server.recorder, server.config.redact)
        self._mailbox = Mailbox(server.loop, server.spawn)

    async def request(self, request: Request, *, timeout: float | None = None) -> Response:
        job = self.arrive(request)
        self._mailbox.post(job)
        return await self.wait(job, timeout)

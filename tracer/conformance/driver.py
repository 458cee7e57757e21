"""The in-process driver of ``trace check``: representative requests through the real shim.

The app is wrapped with ``tracer.instrument(app, recorder=...)``, so violations come from the
same code path as every other recording; this module only plays the server. WSGI: GET and
HEAD each path, POST with a body (followed on ``wsgi.input`` by the next request's bytes, as on a
keep-alive socket, so reading past CONTENT_LENGTH shows), POST chunked. ASGI: lifespan startup,
the same requests (the chunked one as three ``http.request`` messages), a websocket session,
lifespan shutdown. Probes the app plainly does not handle (a websocket to an HTTP-only app)
are skipped, not judged. How each probe is played, as the server and its client, is
``tracer.conformance.probe_clients``; how its events are filed, and the rules judged after
the request (CHK-001, CHK-002, WSGI-022 of a middleware inside the app, which a ``CloseWatch``
sees while a WSGI probe runs), ``tracer.conformance.session``. What the tasks and threads the
requests left behind do after their request ended (WSGI-026, ASGI-003) is waited for after the
last probe, at most ``LATE_GRACE``, and filed under the request it came from.

Every probe is bounded by the timeout (CHK-001 past it). WSGI probes run on worker threads.
ASGI probes run on an event loop of their own, on a daemon thread, and the caller waits for
each one with a deadline: a handler that blocks the loop (``time.sleep`` in ``async def``) can
stop the loop's own timeouts from firing, but not the caller's. A loop still blocked past the
deadline cannot be taken back: that probe is CHK-001, the probes after it are skipped with a
note, and the loop's thread is left behind. Otherwise the check closes its loop at its end as
``asyncio.run`` does, cancelling the tasks left, but waits for them at most the grace
(``_grace``: a quarter of the timeout, from 0.25 s to 0.5 s): a task that swallows its
cancellation and never ends (its request is CHK-001) is given up, and the loop closed without
it, so that neither the loop's thread nor the shim's loop watchdog outlives the check.
Imports the spine, ``tracer.instrument`` and this package.
"""

from __future__ import annotations

import concurrent.futures
import sys
import threading

# Bound now, before the app is imported: the check's loop and waits must not depend on what
# the app does to asyncio at import (an event-loop policy whose ``new_event_loop`` raises, an
# ``asyncio.wait`` replaced by a fake).
from asyncio import (
    FIRST_COMPLETED,
    AbstractEventLoop,
    Event,
    Queue,
    Task,
    all_tasks,
    current_task,
    ensure_future,
    gather,
    run_coroutine_threadsafe,
    set_event_loop,
    wait,
)
from collections.abc import Coroutine, Sequence
from contextlib import suppress
from time import monotonic
from typing import Any

from tracer.conformance.closes import CloseWatch
from tracer.conformance.findings import CheckReport, crash_of
from tracer.conformance.probe_clients import ClientLeft, drive_http, drive_websocket, serve_wsgi
from tracer.conformance.probes import Probe, make_environ, plan
from tracer.conformance.routes import discover_routes
from tracer.conformance.session import Session
from tracer.interface import detect_interface, is_asgi
from tracer.loops import new_loop
from tracer.recorder import Recorder
from tracer.sourcepath import display_path

__all__ = ["Probe", "plan", "plan_for", "check_app"]


# -- what the requests left behind --------------------------------------------------------------

LATE_GRACE = 0.2
"""How long (seconds, at most) the check waits after its last request for the tasks and threads
the app left behind, whose protocol calls after their request ended are ``ASGI-003`` and
``WSGI-026``: calls they make later are not seen. Waited only while some are still running.
docs/rules.md (``rulesdoc``) says this number too."""


class _LeftBehind:
    """The threads the app starts during a check: those alive at its start are not the app's
    requests', and ``ours`` (the check's workers and loop thread) are not the app's at all."""

    def __init__(self) -> None:
        self.before = frozenset(threading.enumerate())
        self.ours: set[threading.Thread] = set()

    def running(self) -> list[threading.Thread]:
        """The app's threads started since, still running."""
        return [
            thread
            for thread in threading.enumerate()
            if thread not in self.before and thread not in self.ours and thread.is_alive()
        ]

    def wait(self, deadline: float) -> bool:
        """Wait until they are all over or ``deadline`` (``time.monotonic``) passed; whether
        there were any."""
        threads = self.running()
        for thread in threads:
            left = deadline - monotonic()
            if left <= 0:
                break
            thread.join(left)
        return bool(threads)


# -- WSGI ---------------------------------------------------------------------------------------


def _check_wsgi(
    session: Session, probes: list[Probe], timeout: float, left_behind: _LeftBehind
) -> None:
    for probe in probes:
        if probe.kind != "http":
            continue
        watch = CloseWatch()
        worker = threading.Thread(
            target=serve_wsgi,
            args=(session.traced, make_environ(probe), timeout, watch),
            daemon=True,
            name="trace-check",
        )
        left_behind.ours.add(worker)
        worker.start()
        worker.join(timeout)
        timed_out = worker.is_alive()
        events = session.events()
        if timed_out:
            watch.abandon()  # an unfinished request is not judged; its thread runs on unwatched
        else:
            session.judge_closes(events, watch)
        session.collect(probe.name, timed_out=timed_out, events=events)
    # Threads the requests left behind run on while a server does: a start_response or write
    # they call after the request ended is WSGI-026, filed under the request they came from.
    left_behind.wait(monotonic() + LATE_GRACE)
    session.collect_late()


# -- ASGI ---------------------------------------------------------------------------------------


class _Lifespan:
    """The lifespan connection, running beside the requests."""

    def __init__(self, app: Any) -> None:
        self.queue: Queue[dict[str, Any]] = Queue()
        self.answered = Event()
        self.first: str | None = None
        self.received = 0
        self.app = app
        self.task: Task[Any] | None = None
        # The lifespan scope's state: what the app stores there at startup, each request
        # scope gets a shallow copy of (as uvicorn does).
        self.state: dict[str, Any] = {}

    async def receive(self) -> dict[str, Any]:
        """The server's ``receive``: the next phase message, when there is one."""
        self.received += 1
        return await self.queue.get()

    async def send(self, message: Any) -> None:
        """The server's ``send``: any ``lifespan.<phase>.<answer>`` ends the wait."""
        kind = message.get("type") if isinstance(message, dict) else None
        if self.first is None:
            self.first = str(kind)
        if isinstance(kind, str) and kind.startswith("lifespan.") and kind.count(".") == 2:
            self.answered.set()

    async def _contained(self, scope: dict[str, Any]) -> None:
        """Run the app on the lifespan scope, keeping its SystemExit or KeyboardInterrupt in
        this task: asyncio re-raises those out of the event loop itself, which would end the
        check there. A server logs the failed lifespan and serves on (uvicorn does); the shim
        has recorded the error, which the report shows."""
        try:
            await self.app(scope, self.receive, self.send)
        except (SystemExit, KeyboardInterrupt):
            pass

    async def phase(self, message: str, timeout: float) -> bool:
        """Send ``lifespan.startup``/``shutdown``; wait for the answer or the app's end.
        True if neither came within ``timeout`` (a server gives up on the app then)."""
        if self.task is None:
            scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.4"}}
            scope["state"] = self.state
            self.task = ensure_future(self._contained(scope))
        self.answered.clear()
        await self.queue.put({"type": message})
        waiter = ensure_future(self.answered.wait())
        done, _ = await wait({waiter, self.task}, timeout=timeout, return_when=FIRST_COMPLETED)
        waiter.cancel()
        return not done

    async def end(self) -> None:
        """Stop the lifespan task if it still runs (as a server does at exit)."""
        if self.task is None:
            return
        if not self.task.done():
            self.task.cancel()
        await gather(self.task, return_exceptions=True)

    def skip_reason(self) -> str | None:
        """Why the lifespan probe does not apply (the app ignores or misreads the scope)."""
        ignored = self.first is None and not self.received
        if ignored or (self.first is not None and self.first.startswith("http.")):
            return "the app does not handle lifespan scopes"
        return None


async def _settle(keep: Task[Any] | None, timeout: float) -> None:
    """Wait (at most ``timeout``) for the tasks the app left behind, but not ``keep``. Each
    gets a step even when ``timeout`` is 0: a ``send(...)`` a thread just handed to the loop
    (``run_coroutine_threadsafe``) is sent then."""
    current = current_task()
    left = {task for task in all_tasks() if task is not current and task is not keep}
    if left:
        await wait(left, timeout=max(0.0, timeout))


def _grace(timeout: float) -> float:
    """Slack past the timeout for a probe the loop times out itself (cancelling takes a step)."""
    return min(0.5, max(0.25, timeout / 4))


class _LoopThread:
    """The check's event loop, run on a daemon thread; the caller waits for each step, bounded.

    A step the loop's own timeouts would end in time finishes before the caller's deadline
    (the timeout plus ``_grace``). Past the deadline the step is cancelled and the loop pinged:
    a loop that does not answer is blocked by the app (``stuck``) and is given up on.
    """

    def __init__(self, timeout: float) -> None:
        self.wait = timeout + _grace(timeout)
        self.grace = _grace(timeout)
        self.stuck = False
        self.loop = new_loop()
        self.upsets: list[dict[str, str | None]] = []
        """What the app did to the loop itself since the caller last looked (``take_upsets``):
        crash rows without their request."""
        self._closing = False
        self._stopped_at: str | None = None
        self._given_up: set[int] = set()
        """ids of the tasks still pending when the loop was closed (``_cancel_left``)."""
        self._watch_stops()
        self.loop.set_exception_handler(self._unhandled)
        self.thread = threading.Thread(target=self._run, name="trace-check-loop", daemon=True)
        self.thread.start()

    def _watch_stops(self) -> None:
        """Note where the app calls ``loop.stop()``, for the line that says it did."""
        own_stop = self.loop.stop

        def stop() -> None:
            if not self._closing and self._stopped_at is None:
                caller = sys._getframe(1)
                self._stopped_at = f"{display_path(caller.f_code.co_filename)}:{caller.f_lineno}"
            own_stop()

        try:
            setattr(self.loop, "stop", stop)  # noqa: B010 - mypy refuses assigning a method
        except AttributeError:  # a loop of a C type: noticed, without the line
            pass

    def _unhandled(self, loop: AbstractEventLoop, context: dict[str, Any]) -> None:
        # A task's SystemExit or KeyboardInterrupt was already reported as an upset; asyncio
        # would log it again as "never retrieved" when the task is collected. A task given up
        # on is reported (its request is CHK-001): asyncio would log it as "destroyed but
        # pending" when it is collected, whenever that is.
        if id(context.get("task")) in self._given_up:
            self._given_up.discard(id(context.get("task")))
            return
        if not isinstance(context.get("exception"), (SystemExit, KeyboardInterrupt)):
            loop.default_exception_handler(context)

    def _run(self) -> None:
        # The app can end ``run_forever`` early: a SystemExit or KeyboardInterrupt raised in a
        # task it created comes out of the loop itself, and its own ``loop.stop()`` returns
        # from it. uvicorn's process ends then; the check says so (``upsets``) and runs the
        # loop on, so that the probes left are still judged. What is left at the end (a loop
        # given up on that came back, a cleanup cut short) is cancelled, as asyncio.run does.
        # Nobody waits for this thread any more.
        set_event_loop(self.loop)
        try:
            while True:
                try:
                    self.loop.run_forever()
                except (SystemExit, KeyboardInterrupt) as exc:
                    row = crash_of(exc, "")
                    said = f"{row['message']} " if row["message"] else ""
                    row["message"] = (
                        f"{said}(raised in a task the app created: it ends the server's event "
                        "loop, and the server)"
                    )
                    self.upsets.append(row)
                    continue
                if self._closing:
                    break
                self.upsets.append(
                    {
                        "request": "",
                        "type": "loop.stop()",
                        "message": "the app stopped the server's event loop (a server ends there)",
                        "where": self._stopped_at,
                    }
                )
                self._stopped_at = None
            with suppress(SystemExit, KeyboardInterrupt):
                self._cancel_left()
        finally:
            self.loop.close()

    def _cancel_left(self) -> None:
        """Cancel the tasks left and let them finish, as ``asyncio.run`` does, but for
        ``grace`` at most: a task that swallows its cancellation and never ends (its request
        is CHK-001 already) would keep the loop, this thread and the shim's loop watchdog
        going for the rest of the process. The loop is closed without it."""
        pending = all_tasks(self.loop)
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(wait(pending, timeout=self.grace))
        self._given_up = {id(task) for task in pending if not task.done()}

    def take_upsets(self) -> list[dict[str, str | None]]:
        """What the app did to the loop since the last call (see ``upsets``)."""
        upsets, self.upsets = self.upsets, []
        return upsets

    def run(self, coro: Coroutine[Any, Any, Any]) -> tuple[bool, Any]:
        """Run ``coro`` on the loop: ``(True, its result)``, or ``(False, None)`` past the deadline."""
        if self.stuck:
            coro.close()
            return False, None
        try:
            future = run_coroutine_threadsafe(coro, self.loop)
        except RuntimeError:  # the loop is closed (its thread ended): nothing runs any more
            coro.close()
            self.stuck = True
            return False, None
        try:
            return True, future.result(self.wait)
        except concurrent.futures.TimeoutError:
            pass
        except concurrent.futures.CancelledError:
            return False, None
        if not future.cancel():  # it ended just now
            return True, future.result()
        # The task is cancelled when (if) the loop gets to it; is the loop there at all?
        alive = threading.Event()
        try:
            self.loop.call_soon_threadsafe(alive.set)
        except RuntimeError:  # the loop is closed
            pass
        self.stuck = not alive.wait(self.grace)
        return False, None

    async def _shutdown(self) -> None:
        """As asyncio.run ends: cancel the tasks left, close async generators and the executor."""
        current = current_task()
        tasks = [task for task in all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        if tasks:
            await wait(tasks, timeout=self.grace)
        await self.loop.shutdown_asyncgens()
        await self.loop.shutdown_default_executor()

    def close(self) -> None:
        """Stop the loop and its thread; a stuck one is left behind (the thread is a daemon)."""
        if not self.stuck:
            self.run(self._shutdown())
        self._closing = True
        try:
            self.loop.call_soon_threadsafe(self.loop.stop)
        except RuntimeError:  # already closed
            return
        if not self.stuck:  # its tasks get ``grace`` to end once cancelled (``_cancel_left``)
            self.thread.join(2 * self.grace)


def _check_asgi(
    session: Session, probes: list[Probe], timeout: float, left_behind: _LeftBehind
) -> None:
    runner = _LoopThread(timeout)
    left_behind.ours.add(runner.thread)
    try:
        _drive_asgi(session, probes, timeout, runner, left_behind)
    finally:
        runner.close()


def _drive_asgi(
    session: Session,
    probes: list[Probe],
    timeout: float,
    runner: _LoopThread,
    left_behind: _LeftBehind,
) -> None:
    lifespan = _Lifespan(session.traced)

    def not_run(blocker: str) -> str:
        return (
            f"not run: the event loop was still blocked by {blocker} past the {timeout:g} s timeout"
        )

    # A phase the app never answers is CHK-001 of the lifespan; the requests are still probed.
    finished, late = runner.run(lifespan.phase("lifespan.startup", timeout))
    _file_upsets(session, runner, "lifespan")
    hung = ["startup"] if late or not finished else []
    if runner.stuck:
        session.events()
        session.collect("lifespan", timed_out=True, events=session.lifespan_events)
        session.report.skipped.extend(f"{p.name}: {not_run('lifespan startup')}" for p in probes)
        return
    skip = lifespan.skip_reason()
    if skip is not None:
        runner.run(lifespan.end())
    session.events()  # the lifespan connection's own events are filed at the end
    blocker = "lifespan" if runner.stuck else None
    # An app that ignores lifespan stores nothing in its state: each request gets a fresh {}.
    state = lifespan.state if skip is None else {}
    for i, probe in enumerate(probes):
        if blocker is not None:
            session.report.skipped.extend(f"{p.name}: {not_run(blocker)}" for p in probes[i:])
            break
        raised: list[BaseException] = []
        left: list[ClientLeft] = []
        refused: list[str] = []
        if probe.kind == "http":
            coro = drive_http(session.traced, probe, timeout, raised, state, left)
        else:
            coro = drive_websocket(session.traced, probe, timeout, raised, state, refused=refused)
        finished, result = runner.run(coro)
        timed_out, why = result if finished else (True, None)
        if refused and finished and why is None:
            _retry_binary(session, probe, timeout, state, runner, refused[0], raised)
        else:
            session.collect(
                probe.name, timed_out=timed_out, skip=why, raised=raised, client_left=bool(left)
            )
        _file_upsets(session, runner, probe.name)
        if runner.stuck:
            blocker = probe.name
    if blocker is None:
        # Tasks and threads the requests left behind run on while a server does: give them
        # a moment (a send after the request ended is ASGI-003), then file what they did
        # under the request they came from. A thread's send runs on the loop: settle again.
        deadline = monotonic() + LATE_GRACE
        runner.run(_settle(lifespan.task, LATE_GRACE))
        if left_behind.wait(deadline):
            runner.run(_settle(lifespan.task, deadline - monotonic()))
        session.collect_late()
        _file_upsets(session, runner, "after the requests")
    lifespan_stuck = False
    if skip is None:
        if blocker is not None:
            session.report.skipped.append(f"lifespan shutdown: {not_run(blocker)}")
        elif hung:  # still waiting for its startup: a shutdown would wait as long again
            runner.run(lifespan.end())
            lifespan_stuck = runner.stuck
        else:
            finished, late = runner.run(lifespan.phase("lifespan.shutdown", timeout))
            if late or not finished:
                hung.append("shutdown")
            runner.run(lifespan.end())
            lifespan_stuck = runner.stuck
    _file_upsets(session, runner, "lifespan")
    session.events()
    session.collect(
        "lifespan",
        skip=skip,
        events=session.lifespan_events,
        timed_out=lifespan_stuck or bool(hung),
        what=" and ".join(f"lifespan.{phase}" for phase in hung),
    )


def _file_upsets(session: Session, runner: _LoopThread, request: str) -> None:
    """Report what the app did to the event loop itself during ``request`` (a task's
    SystemExit, its ``loop.stop()``) with the exceptions it raised: no rule is broken, but a
    server would have ended there."""
    for row in runner.take_upsets():
        session.report.crashes.append({**row, "request": request})


def _retry_binary(
    session: Session,
    probe: Probe,
    timeout: float,
    state: dict[str, Any],
    runner: _LoopThread,
    refusal: str,
    raised: list[BaseException],
) -> None:
    """The websocket probe's endpoint refused the text message (``refusal``: it raised on it,
    or closed with 1003): probe it again with a binary one, as its clients talk to it. If the
    app takes that one (no refusal, no error, in time), that session is the probe's, and the
    text one is set aside with a note: the app's error on a kind of message it does not take
    is no protocol mistake. Else the binary session is set aside and the text one judged
    (``raised``: what the app raised in it that no event records)."""
    text = session.events()
    again: list[BaseException] = []
    refused: list[str] = []
    coro = drive_websocket(
        session.traced, probe, timeout, again, state, binary=True, refused=refused
    )
    finished, result = runner.run(coro)
    binary = session.events()
    if not finished or result[0] or refused or again or session.crash_said(binary, probe.name):
        session.set_aside(probe.name, binary)
        session.collect(probe.name, events=text, raised=raised)
        return
    said = session.crash_said(text, probe.name) if refusal == "raised" else None
    how = f"raised {said}" if said else refusal
    note = f"the app refused the text message ({how}); probed with a binary one"
    session.set_aside(probe.name, text, note)
    session.collect(probe.name, events=binary)


def plan_for(app: Any, paths: Sequence[str] | None, *, websocket: bool) -> list[Probe]:
    """The probes of a check: at ``paths`` when given, else at the routes ``app`` declares."""
    if paths:
        return plan(list(paths), websocket=websocket)
    routes = discover_routes(app)
    if routes is None or not (routes.http or routes.websocket):
        return plan(["/"], websocket=websocket)
    # An HTTP-only app still gets one websocket, to see it refused.
    sessions = routes.websocket or routes.http[:1]
    return plan(routes.http, websocket=websocket, websocket_paths=sessions, methods=routes.methods)


def check_app(
    app: Any,
    *,
    paths: Sequence[str] | None = None,
    interface: str = "auto",
    timeout: float = 5.0,
    label: str | None = None,
    recorder: Recorder | None = None,
) -> CheckReport:
    """Drive ``app`` through representative requests and return what broke the protocol.

    ``paths`` are probed with GET, HEAD, POST and chunked POST (ASGI: and a websocket session each);
    None probes the app's own routes when it is a Flask, Starlette or FastAPI app
    (``tracer.conformance.routes``: websocket sessions then go to its websocket routes only),
    else ``/``.
    ``timeout`` bounds each request (CHK-001 past it; an ASGI app that keeps the event loop
    blocked past it ends the check there, the probes left listed as skipped; a task that never
    ends, even cancelled, is given up when the check closes its loop); ``recorder``
    receives every event (a new in-memory one by default), so a check can be saved and
    replayed like any recording.
    """
    kind = detect_interface(app, interface)
    name = label or getattr(app, "__qualname__", None) or type(app).__name__
    session = Session(app, name, kind, recorder, timeout)
    probes = plan_for(app, paths, websocket=is_asgi(kind))
    left_behind = _LeftBehind()
    if is_asgi(kind):
        _check_asgi(session, probes, timeout, left_behind)
    else:
        _check_wsgi(session, probes, timeout, left_behind)
    session.judge_every_request_raised()
    session.recorder.drain()
    session.done = True
    if session.own_recorder:
        session.recorder.close()
    return session.report

"""The in-process driver of ``trace check``: representative requests through the real shim.

The app is wrapped with ``tracer.instrument(app, recorder=...)``, so violations come from the
same code path as every other recording; this module only plays the server. WSGI: GET and
HEAD each path, POST with a body (followed on ``wsgi.input`` by the next request's bytes, as on a
keep-alive socket, so reading past CONTENT_LENGTH shows), POST chunked. ASGI: lifespan startup,
the same requests (the chunked one as three ``http.request`` messages), a websocket session,
lifespan shutdown. Probes the app plainly does not handle (a websocket to an HTTP-only app)
are skipped, not judged.

Two rules are judged here, after the request, and recorded as its ``violation``: CHK-002 (a
HEAD answered 5xx where GET was not) and WSGI-022 of a middleware inside the app, which a
``CloseWatch`` (``tracer.conformance.closes``) sees while a WSGI probe runs.

Every probe is bounded by the timeout (CHK-001 past it). WSGI probes run on worker threads.
ASGI probes run on an event loop of their own, on a daemon thread, and the caller waits for
each one with a deadline: a handler that blocks the loop (``time.sleep`` in ``async def``) can
stop the loop's own timeouts from firing, but not the caller's. A loop still blocked past the
deadline cannot be taken back: that probe is CHK-001, the probes after it are skipped with a
note, and the loop's thread is left behind. Imports the spine, ``tracer.instrument`` and this
package.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Coroutine, Sequence
from typing import Any

from tracer import events as K
from tracer.conformance.closes import CloseWatch
from tracer.conformance.findings import (
    CheckReport,
    Finding,
    app_location,
    crash_of,
    crashes_from_events,
    findings_from_events,
)
from tracer.conformance.probes import WS_TEXT, Probe, make_environ, make_scope, plan
from tracer.conformance.routes import discover_routes
from tracer.conformance.rules import RULES
from tracer.events import Event
from tracer.interface import detect_interface, is_asgi
from tracer.loops import run_until_stopped
from tracer.recorder import Recorder

__all__ = ["Probe", "plan", "plan_for", "check_app"]


class _Session:
    """One check run: the recorder, the findings so far, and where the next probe's events start."""

    def __init__(
        self, app: Any, label: str, interface: str, recorder: Recorder | None, timeout: float
    ) -> None:
        from tracer import instrument

        self.timeout = timeout
        self.lifespan_req: int | None = None
        self.lifespan_events: list[Event] = []
        self.own_recorder = recorder is None
        self.recorder = Recorder() if recorder is None else recorder
        # A subscriber sees every event even when the recorder streams to disk and keeps none.
        self._log: list[Event] = []
        self.done = False
        self.recorder.subscribe(self._take)
        self.traced = instrument(app, recorder=self.recorder, interface=interface)
        self.report = CheckReport(app=label, interface="asgi" if is_asgi(interface) else "wsgi")
        self.fallback = app_location(app)
        self._seen = 0
        self._names: dict[int, str] = {}  # req id -> the probe it belongs to
        self._statuses: dict[str, int] = {}  # probe -> the status its request.end says

    def _take(self, batch: list[Event]) -> None:
        if not self.done:  # a caller's recorder outlives the check: stop collecting then
            self._log.extend(batch)

    def events(self) -> list[Event]:
        """The events recorded since the last call, minus the lifespan connection's."""
        self.recorder.drain()
        events = self._log
        fresh, self._seen = events[self._seen :], len(events)
        for event in fresh:
            if event.kind == K.REQUEST_START and event.data.get("scope_type") == "lifespan":
                self.lifespan_req = event.req
        if self.lifespan_req is None:
            return fresh
        self.lifespan_events.extend(e for e in fresh if e.req == self.lifespan_req)
        return [e for e in fresh if e.req != self.lifespan_req]

    def collect(
        self,
        request: str,
        *,
        timed_out: bool = False,
        skip: str | None = None,
        events: list[Event] | None = None,
        raised: Sequence[BaseException] = (),
        what: str = "",
        client_left: bool = False,
    ) -> None:
        """File the probe's violations (or drop them, with ``skip``, if it did not apply);
        ``raised``: the app's own ``CancelledError``s, reported as crashes like the exceptions
        the shim records (unless it recorded them too); ``what``: the message
        that went unanswered, when the timeout was not a request's; ``client_left``: a send
        raised ``ClientLeft``, so what the app raised after it is how it learned that its
        client left (Starlette's ClientDisconnect), not a crash."""
        if events is None:
            events = self.events()
        if skip is not None:
            self.report.skipped.append(f"{request}: {skip}")
            self.report.skipped_requests.update(e.req for e in events if e.req is not None)
            return
        self.report.requests.append(request)
        self._names.update({e.req: request for e in events if e.req is not None})
        # An error's ``where`` is already the app's place (the shim never names its own
        # frames, not even when it is its ``iter()`` of the app's result that raised).
        crashes = crashes_from_events(events, request)
        # A shim that records the app's own CancelledError has said it already.
        said = {(row["type"], row["message"]) for row in crashes}
        for exc in raised:
            row = crash_of(exc, request, self.fallback)
            if (row["type"], row["message"]) not in said:
                crashes.append(row)
        if client_left:
            crashes = []
        for event in events:
            status = event.data.get("status") if event.kind == K.REQUEST_END else None
            if type(status) is int:
                self._statuses[request] = status
        if not (timed_out or crashes):  # a crash or a hang says more than its 500 would
            self._judge_head(request, events)
        self.report.findings.extend(findings_from_events(events, request, fallback=self.fallback))
        self.report.crashes.extend(crashes)
        if timed_out:
            rule = RULES["CHK-001"]
            message = f"{rule.message} ({self.timeout:g} s)"
            if what:
                message += f": {what} not answered"
            self.report.findings.append(
                Finding(rule.id, rule.severity, message, rule.hint, request, self.fallback)
            )

    def _judge_head(self, request: str, events: list[Event]) -> None:
        """CHK-002 for a HEAD probe answered 5xx where the GET before it was not."""
        method, _, path = request.partition(" ")
        head = self._statuses.get(request)
        get = self._statuses.get(f"GET {path}")
        if method == "HEAD" and head is not None and head >= 500 and get is not None and get < 500:
            self.violate(events, "CHK-002", f"HEAD {head}, GET {get}", self.fallback)

    def violate(self, events: list[Event], rule_id: str, detail: str, location: str | None) -> None:
        """Record ``rule_id`` as a ``violation`` of the probe whose ``events`` these are, and
        add it to them: a rule the check judges after the request is in its recording too."""
        req = next((e.req for e in events if e.kind == K.REQUEST_START), None)
        rule = RULES[rule_id]
        data: dict[str, Any] = {
            "rule": rule_id,
            "message": f"{rule.message}: {detail}",
            "severity": rule.severity,
            "hint": rule.hint,
        }
        if location is not None:
            data["location"] = location
        self.recorder.emit(K.VIOLATION, req, data)
        events.extend(self.events())

    def collect_late(self) -> None:
        """File the events recorded since the last probe (tasks it left behind) under the
        probe each one's connection belongs to."""
        late: dict[str, list[Event]] = {}
        for event in self.events():
            name = self._names.get(event.req) if event.req is not None else None
            if name is not None:
                late.setdefault(name, []).append(event)
        for name, events in late.items():
            self.report.findings.extend(findings_from_events(events, name, fallback=self.fallback))
            self.report.crashes.extend(crashes_from_events(events, name))


# An endless stream (server-sent events, long-poll) ends only when its client leaves. The check's
# client leaves a streaming response after this many body chunks, or at half the timeout: the
# app then has the other half to notice (ASGI: http.disconnect; WSGI: close()) and end.
_LEAVE_AFTER_CHUNKS = 100


# -- WSGI ---------------------------------------------------------------------------------------


def _serve_wsgi(app: Any, environ: dict[str, Any], timeout: float, watch: CloseWatch) -> None:
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
            if count >= _LEAVE_AFTER_CHUNKS or time.monotonic() >= leave_at:
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


def _check_wsgi(session: _Session, probes: list[Probe], timeout: float) -> None:
    for probe in probes:
        if probe.kind != "http":
            continue
        watch = CloseWatch()
        worker = threading.Thread(
            target=_serve_wsgi,
            args=(session.traced, make_environ(probe), timeout, watch),
            daemon=True,
            name="trace-check",
        )
        worker.start()
        worker.join(timeout)
        timed_out = worker.is_alive()
        events = session.events()
        if timed_out:
            watch.abandon()  # an unfinished request is not judged; its thread runs on unwatched
        else:
            for unclosed in watch.unclosed():
                session.violate(events, "WSGI-022", unclosed.detail(), unclosed.location())
        session.collect(probe.name, timed_out=timed_out, events=events)


# -- ASGI ---------------------------------------------------------------------------------------


class ClientLeft(OSError):
    """What a send raises once the check's client left a streaming response: the scope says
    ASGI spec 2.4, which promises an OSError there (Starlette's StreamingResponse relies on it
    alone, never listening for http.disconnect, so without it a stream would run on)."""


async def _http(
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
    loop = asyncio.get_running_loop()
    leave_at = loop.time() + timeout / 2
    gone = asyncio.Event()  # the response is complete, or the client left a stream
    leaving: list[asyncio.TimerHandle] = []
    sent = 0
    complete = False

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await gone.wait()  # the client stays until the response is complete, or it leaves
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        nonlocal sent, complete
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "http.response.body" and gone.is_set() and not complete:
            error = ClientLeft("the client left the response")
            left.append(error)
            raise error
        if kind == "http.response.start" and not leaving:
            leaving.append(loop.call_at(max(leave_at, loop.time()), gone.set))
        elif kind == "http.response.body" and message.get("more_body", False):
            sent += 1
            if sent >= _LEAVE_AFTER_CHUNKS:
                gone.set()
        if (kind == "http.response.body" and not message.get("more_body", False)) or (
            kind == "http.response.pathsend"
        ):
            complete = True
            gone.set()

    try:
        return await _run(app(make_scope(probe, state), receive, send), timeout, raised), None
    finally:
        for handle in leaving:
            handle.cancel()


async def _websocket(
    app: Any, probe: Probe, timeout: float, raised: list[BaseException], state: dict[str, Any]
) -> tuple[bool, str | None]:
    """Drive a websocket session: connect, one text message (JSON), disconnect."""
    incoming: list[dict[str, Any]] = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": WS_TEXT},
    ]
    first: list[str] = []
    received = 0

    async def receive() -> dict[str, Any]:
        nonlocal received
        received += 1
        if incoming:
            return incoming.pop(0)
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Any) -> None:
        if not first:
            first.append(str(message.get("type") if isinstance(message, dict) else None))

    timed_out = await _run(app(make_scope(probe, state), receive, send), timeout, raised)
    if (not first and not received) or (first and first[0].startswith("http.")):
        # It never looked at the connection, or answered it as HTTP: an HTTP-only app.
        return timed_out, "the app does not handle websocket scopes"
    return timed_out, None


async def _run(coro: Any, timeout: float, raised: list[BaseException]) -> bool:
    """Await the app; True if it timed out (it is then cancelled) or ended past the timeout.
    An app that raised ``CancelledError`` itself ended: that exception goes in ``raised``.

    A handler that blocks the loop ends its request within the step that blocks, and the
    timeout (a callback on that loop) cannot fire before: the clock says it was late.
    """
    loop = asyncio.get_running_loop()
    began = loop.time()
    try:
        await asyncio.wait_for(_contained(coro, raised), timeout)
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
    except asyncio.CancelledError as exc:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # the timeout (or the caller) cancelled the probe
        raised.append(exc)


class _Lifespan:
    """The lifespan connection, running beside the requests."""

    def __init__(self, app: Any) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.answered = asyncio.Event()
        self.first: str | None = None
        self.received = 0
        self.app = app
        self.task: asyncio.Task[Any] | None = None
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

    async def phase(self, message: str, timeout: float) -> bool:
        """Send ``lifespan.startup``/``shutdown``; wait for the answer or the app's end.
        True if neither came within ``timeout`` (a server gives up on the app then)."""
        if self.task is None:
            scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.4"}}
            scope["state"] = self.state
            self.task = asyncio.ensure_future(self.app(scope, self.receive, self.send))
        self.answered.clear()
        await self.queue.put({"type": message})
        waiter = asyncio.ensure_future(self.answered.wait())
        done, _ = await asyncio.wait(
            {waiter, self.task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        waiter.cancel()
        return not done

    async def end(self) -> None:
        """Stop the lifespan task if it still runs (as a server does at exit)."""
        if self.task is None:
            return
        if not self.task.done():
            self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    def skip_reason(self) -> str | None:
        """Why the lifespan probe does not apply (the app ignores or misreads the scope)."""
        ignored = self.first is None and not self.received
        if ignored or (self.first is not None and self.first.startswith("http.")):
            return "the app does not handle lifespan scopes"
        return None


_SETTLE = 0.2
"""How long tasks the requests left behind may still run before the lifespan shutdown."""


async def _settle(keep: asyncio.Task[Any] | None) -> None:
    """Wait (at most ``_SETTLE``) for the tasks the app left behind, but not ``keep``."""
    current = asyncio.current_task()
    left = {task for task in asyncio.all_tasks() if task is not current and task is not keep}
    if left:
        await asyncio.wait(left, timeout=_SETTLE)


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
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="trace-check-loop", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        # What is left at the end (a loop given up on that came back, a cleanup cut short) is
        # cancelled, as asyncio.run does. Nobody waits for this thread any more.
        run_until_stopped(self.loop)

    def run(self, coro: Coroutine[Any, Any, Any]) -> tuple[bool, Any]:
        """Run ``coro`` on the loop: ``(True, its result)``, or ``(False, None)`` past the deadline."""
        if self.stuck:
            coro.close()
            return False, None
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
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
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=self.grace)
        await self.loop.shutdown_asyncgens()
        await self.loop.shutdown_default_executor()

    def close(self) -> None:
        """Stop the loop and its thread; a stuck one is left behind (the thread is a daemon)."""
        if not self.stuck:
            self.run(self._shutdown())
        try:
            self.loop.call_soon_threadsafe(self.loop.stop)
        except RuntimeError:  # already closed
            return
        if not self.stuck:
            self.thread.join(self.grace)


def _check_asgi(session: _Session, probes: list[Probe], timeout: float) -> None:
    runner = _LoopThread(timeout)
    try:
        _drive_asgi(session, probes, timeout, runner)
    finally:
        runner.close()


def _drive_asgi(
    session: _Session, probes: list[Probe], timeout: float, runner: _LoopThread
) -> None:
    lifespan = _Lifespan(session.traced)

    def not_run(blocker: str) -> str:
        return (
            f"not run: the event loop was still blocked by {blocker} past the {timeout:g} s timeout"
        )

    # A phase the app never answers is CHK-001 of the lifespan; the requests are still probed.
    finished, late = runner.run(lifespan.phase("lifespan.startup", timeout))
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
        if probe.kind == "http":
            coro = _http(session.traced, probe, timeout, raised, state, left)
        else:
            coro = _websocket(session.traced, probe, timeout, raised, state)
        finished, result = runner.run(coro)
        timed_out, why = result if finished else (True, None)
        session.collect(
            probe.name, timed_out=timed_out, skip=why, raised=raised, client_left=bool(left)
        )
        if runner.stuck:
            blocker = probe.name
    if blocker is None:
        # Tasks the requests left behind run on while a server does: give them a moment
        # (a send after the request ended is ASGI-003), filed under the request they came from.
        runner.run(_settle(lifespan.task))
        session.collect_late()
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
    session.events()
    session.collect(
        "lifespan",
        skip=skip,
        events=session.lifespan_events,
        timed_out=lifespan_stuck or bool(hung),
        what=" and ".join(f"lifespan.{phase}" for phase in hung),
    )


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
    blocked past it ends the check there, the probes left listed as skipped); ``recorder``
    receives every event (a new in-memory one by default), so a check can be saved and
    replayed like any recording.
    """
    kind = detect_interface(app, interface)
    name = label or getattr(app, "__qualname__", None) or type(app).__name__
    session = _Session(app, name, kind, recorder, timeout)
    probes = plan_for(app, paths, websocket=is_asgi(kind))
    if is_asgi(kind):
        _check_asgi(session, probes, timeout)
    else:
        _check_wsgi(session, probes, timeout)
    session.recorder.drain()
    session.done = True
    if session.own_recorder:
        session.recorder.close()
    return session.report

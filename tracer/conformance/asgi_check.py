"""``trace check``'s ASGI probes: lifespan startup, the requests, lifespan shutdown.

Its one job is playing an ASGI server through one check, on the check's own event loop
(``tracer.conformance.loop_thread``): the lifespan connection runs beside the requests (its
state copied into each request's scope, as uvicorn does), a phase the app never answers is
CHK-001 of the lifespan, a websocket probe whose endpoint refuses text is tried again with a
binary message, the tasks and threads the requests left behind get at most ``LATE_GRACE`` to
finish, and what the app does to the loop itself is filed with the exceptions it raised. A loop
still blocked past a probe's deadline ends the check there: the probes after it are skipped
with a note. How each request is played, as the server and its client, is
``tracer.conformance.probe_clients``. Imports this package only.
"""

from __future__ import annotations

# Bound now, before the app is imported: the check's loop and waits must not depend on what
# the app does to asyncio at import (an event-loop policy whose ``new_event_loop`` raises, an
# ``asyncio.wait`` replaced by a fake).
from asyncio import (
    FIRST_COMPLETED,
    Event,
    Queue,
    Task,
    all_tasks,
    current_task,
    ensure_future,
    gather,
    wait,
)
from time import monotonic
from typing import Any

from tracer.conformance.left_behind import LATE_GRACE, LeftBehind
from tracer.conformance.loop_thread import LoopThread
from tracer.conformance.probe_clients import ClientLeft, drive_http, drive_websocket
from tracer.conformance.probes import Probe
from tracer.conformance.session import Session

__all__ = ["check_asgi"]


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


def check_asgi(
    session: Session, probes: list[Probe], timeout: float, left_behind: LeftBehind
) -> None:
    runner = LoopThread(timeout)
    left_behind.ours.add(runner.thread)
    try:
        _drive_asgi(session, probes, timeout, runner, left_behind)
    finally:
        runner.close()


def _drive_asgi(
    session: Session,
    probes: list[Probe],
    timeout: float,
    runner: LoopThread,
    left_behind: LeftBehind,
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
            coro = drive_websocket(
                session.traced, probe, timeout, raised, state, refused=refused, left=left
            )
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


def _file_upsets(session: Session, runner: LoopThread, request: str) -> None:
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
    runner: LoopThread,
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

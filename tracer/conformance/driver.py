"""The in-process driver of ``trace check``: representative requests through the real shim.

The app is wrapped with ``tracer.instrument(app, recorder=...)``, so violations come from the
same code path as every other recording; this module only plays the server. WSGI: GET and
HEAD each path, POST with a body (followed on ``wsgi.input`` by the next request's bytes, as on a
keep-alive socket, so reading past CONTENT_LENGTH shows), POST chunked. ASGI: lifespan startup,
the same requests (the chunked one as three ``http.request`` messages), a websocket session,
lifespan shutdown. Probes the app plainly does not handle (a websocket to an HTTP-only app)
are skipped, not judged; a framework that routes websocket scopes itself (Sanic) is judged on
what it answers one at an HTTP route. How each probe is played, as the server and its client, is
``tracer.conformance.probe_clients``; how its events are filed, and the rules judged after
the request (CHK-001, CHK-002, WSGI-022 of a middleware inside the app, which a ``CloseWatch``
sees while a WSGI probe runs), ``tracer.conformance.session``. What the tasks and threads the
requests left behind do after their request ended (WSGI-026, ASGI-003) is waited for after the
last probe, at most ``LATE_GRACE``, and filed under the request it came from.

Every probe is bounded by the timeout (CHK-001 past it). WSGI probes run on worker threads,
here. ASGI probes run on an event loop of their own, on a daemon thread
(``tracer.conformance.loop_thread``), and the caller waits for each one with a deadline: a
handler that blocks the loop (``time.sleep`` in ``async def``) can stop the loop's own timeouts
from firing, but not the caller's. A loop still blocked past the deadline cannot be taken back:
that probe is CHK-001, the probes after it are skipped with a note, and the loop's thread is
left behind. Otherwise the check closes its loop at its end as ``asyncio.run`` does, cancelling
the tasks left, but waits for them at most the grace (``loop_thread.grace``: a quarter of the
timeout, from 0.25 s to 0.5 s): a task that swallows its cancellation and never ends (its
request is CHK-001) is given up, and the loop closed without it, so that neither the loop's
thread nor the shim's loop watchdog outlives the check. How the ASGI probes are played in
order (lifespan around the requests) is ``tracer.conformance.asgi_check``; which threads the
app left behind, ``tracer.conformance.left_behind``.
Imports the spine, ``tracer.instrument`` and this package.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from time import monotonic
from typing import Any

from tracer.conformance.asgi_check import check_asgi
from tracer.conformance.closes import CloseWatch
from tracer.conformance.findings import CheckReport
from tracer.conformance.left_behind import LATE_GRACE, LeftBehind
from tracer.conformance.probe_clients import serve_wsgi
from tracer.conformance.probes import Probe, make_environ, plan
from tracer.conformance.routes import discover_routes
from tracer.conformance.session import Session
from tracer.interface import detect_interface, is_asgi
from tracer.recorder import Recorder

__all__ = ["Probe", "plan", "plan_for", "check_app"]


def _check_wsgi(
    session: Session, probes: list[Probe], timeout: float, left_behind: LeftBehind
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


def plan_for(app: Any, paths: Sequence[str] | None, *, websocket: bool) -> list[Probe]:
    """The probes of a check: at ``paths`` when given, else at the routes ``app`` declares.
    The websocket probes of an app whose framework routes websocket scopes itself are judged
    whatever it answers (``Probe.http_answer_judged``)."""
    routes = discover_routes(app)
    if paths:
        probes = plan(list(paths), websocket=websocket)
    elif routes is None or not (routes.http or routes.websocket):
        probes = plan(["/"], websocket=websocket)
    else:
        # An HTTP-only app still gets one websocket, to see it refused.
        sessions = routes.websocket or routes.http[:1]
        probes = plan(
            routes.http, websocket=websocket, websocket_paths=sessions, methods=routes.methods
        )
    if routes is None or not routes.serves_websockets:
        return probes
    return [
        replace(probe, http_answer_judged=True) if probe.kind == "websocket" else probe
        for probe in probes
    ]


def _routes_found(app: Any) -> bool:
    """Whether ``app`` declares routes the check knows how to read."""
    routes = discover_routes(app)
    return routes is not None and bool(routes.http or routes.websocket)


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
    None probes the app's own routes when it is a Flask, Quart, Starlette, FastAPI, Litestar,
    Falcon, Bottle, Sanic or Django app (``tracer.conformance.routes``: websocket sessions
    then go to its websocket routes only),
    else ``/``; when every probe of ``/`` is then refused (403, 404, 405) the report says, in
    a note, that the app's views were not exercised (``Session.note_unreached``).
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
    left_behind = LeftBehind()
    if is_asgi(kind):
        check_asgi(session, probes, timeout, left_behind)
    else:
        _check_wsgi(session, probes, timeout, left_behind)
    session.judge_every_request_raised()
    if not paths and not _routes_found(app):
        session.note_unreached()
    session.recorder.drain()
    session.done = True
    if session.own_recorder:
        session.recorder.close()
    return session.report

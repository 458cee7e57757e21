"""Calls after the request ended: a kept ``start_response``/``write``/``send`` used too late.

An app that keeps the protocol callables it was given and calls them after its request's
``request.end`` (from a thread, a task left running, or a later request) breaks WSGI-026 /
ASGI-003: one ``violation`` of the first request, while the call still reaches the server
unchanged. And the recorded WSGI status is the one of the ``start_response`` call the server
accepted, not of one it rejected.
"""

from __future__ import annotations

import asyncio
import io
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
from model_driver import running, send_all
from real_helpers import run_real

from sample_apps import hello
from tracer import events as K
from tracer.client import ClientConfig
from tracer.conformance import RULES
from tracer.conformance.base import format_site
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.servers import Request
from tracer.shim.asgi import AsgiShim
from tracer.shim.wsgi import WsgiShim

pytestmark = pytest.mark.timeout(90)

TEXT = [("Content-Type", "text/plain")]
ASGI_START = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"x")]}
LATE_BODY = {"type": "http.response.body", "body": b"late"}


def line_of(marker: str, path: str = __file__) -> str:
    """``file:line`` (as a recording names it) of the line of ``path`` ending in ``# marker``."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    [number] = [n for n, text in enumerate(lines, 1) if text.endswith(f"# {marker}")]
    return format_site((path, number))


def late(rule_id: str, called: str, location: str) -> dict[str, Any]:
    """The ``violation`` data of a late call."""
    entry = RULES[rule_id]
    return {
        "rule": rule_id,
        "message": f"{entry.message}: {called}",
        "severity": "error",
        "hint": entry.hint,
        "location": location,
    }


def of(events: list[Event], req: int | None) -> list[Event]:
    """The events of one request, in the order they were recorded."""
    return [e for e in events if e.req == req]


def violations(events: list[Event]) -> list[Event]:
    return [e for e in events if e.kind == K.VIOLATION]


def environ() -> dict[str, Any]:
    """A minimal PEP 3333 environ, for driving a shim by hand as a server would."""
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
    }


class StrictServer:
    """A WSGI server's side of one request, strict as waitress: ``start_response`` a second
    time without exc_info raises AssertionError; ``write`` returns a marker object."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.raised: list[BaseException] = []
        self.written = object()

    def start_response(self, status: str, headers: Any, exc_info: Any = None) -> Any:
        self.calls.append(("start_response", status))
        if len(self.calls) > 1 and exc_info is None:
            error = AssertionError("start_response called a second time without exc_info.")
            self.raised.append(error)
            raise error
        return self.write

    def write(self, data: bytes) -> Any:
        self.calls.append(("write", data))
        return self.written

    def serve(self, app: Any) -> None:
        """One request: call, iterate, close."""
        result = app(environ(), self.start_response)
        try:
            for _ in result:
                pass
        finally:
            result.close()


# -- WSGI -------------------------------------------------------------------------------------


def test_wsgi_write_kept_for_a_later_request_is_a_violation_of_the_first() -> None:
    """``threads`` model, one worker: /keep keeps start_response's write, /late calls it. The
    first request gets one WSGI-026 after its request.end, at the app's line, dated in the
    second request; the second request has no violation."""
    kept: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/keep":
            kept["write"] = start_response("200 OK", TEXT)
            return [b"first"]
        kept["got"] = kept["write"](b"late")  # late write
        start_response("200 OK", TEXT)
        return [b"second"]

    with running("threads", app, threads=1) as (model, recorder):
        first, second = send_all(
            model, [Request(path="/keep"), Request(path="/late")], concurrency=1
        )
    assert (first.status, second.status) == (200, 200)
    assert kept["got"] is None  # what the model's write returns
    events = recorder.events
    assert [e.kind for e in of(events, first.req)] == [
        K.REQUEST_QUEUED,
        K.REQUEST_START,
        K.WSGI_START_RESPONSE,
        K.WSGI_BODY,
        K.WSGI_CLOSE,
        K.SCHED_THREAD,
        K.REQUEST_END,
        K.VIOLATION,
    ]
    [violation] = violations(events)
    assert violation.req == first.req
    assert violation.data == late("WSGI-026", "write() of 4 bytes", line_of("late write"))
    second_start = next(e for e in of(events, second.req) if e.kind == K.REQUEST_START)
    assert violation.t > second_start.t and violation.thread == second_start.thread
    assert of(events, first.req)[-2].data["bytes_out"] == 5  # the late bytes count nowhere


def test_wsgi_callables_used_from_a_thread_after_the_end() -> None:
    """A thread started by the app calls the kept start_response and write after the response
    was closed: the server's answers reach it unchanged (its AssertionError, the very object;
    its write's return value), and the request gets exactly one WSGI-026, on that thread."""
    recorder = Recorder()
    kept: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        kept["start_response"] = start_response
        kept["write"] = start_response("200 OK", TEXT)
        return [b"ok"]

    server = StrictServer()
    server.serve(WsgiShim(app, recorder=recorder))
    seen: dict[str, Any] = {}

    def later() -> None:
        try:
            kept["start_response"]("500 Internal Server Error", TEXT)  # late start_response
        except AssertionError as exc:
            seen["error"] = exc
        seen["written"] = kept["write"](b"late")

    thread = threading.Thread(target=later, name="left-behind")
    thread.start()
    thread.join()
    assert seen == {"error": server.raised[0], "written": server.written}
    assert server.calls == [
        ("start_response", "200 OK"),
        ("start_response", "500 Internal Server Error"),
        ("write", b"late"),
    ]
    events = recorder.events
    assert [e.kind for e in events] == [
        K.REQUEST_START,
        K.WSGI_START_RESPONSE,
        K.WSGI_BODY,
        K.WSGI_CLOSE,
        K.SCHED_THREAD,
        K.REQUEST_END,
        K.VIOLATION,
    ]
    violation = events[-1]
    assert violation.req == events[0].req
    assert violation.data == late(
        "WSGI-026",
        "start_response('500 Internal Server Error', ...)",
        line_of("late start_response"),
    )
    assert (violation.tid, violation.thread) == (thread.ident, "left-behind")
    assert events[-2].data["status"] == 200


def test_late_calls_with_checks_off_pass_through_unrecorded() -> None:
    """checks=False: a late write still reaches the server, and nothing is recorded for it."""
    recorder = Recorder()
    kept: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        kept["write"] = start_response("200 OK", TEXT)
        return [b"ok"]

    server = StrictServer()
    server.serve(WsgiShim(app, recorder=recorder, checks=False))
    assert kept["write"](b"late") is server.written
    assert server.calls[-1] == ("write", b"late")
    assert [e.kind for e in recorder.events][-1] == K.REQUEST_END
    assert not violations(recorder.events)


def test_status_is_the_one_the_server_accepted() -> None:
    """A second start_response the server rejects (it raises) leaves the recorded status as it
    was; the call is still recorded as what the app did, and the app sees the server's error."""
    recorder = Recorder()
    seen: list[BaseException] = []

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", TEXT)
        try:
            start_response("500 Internal Server Error", TEXT)
        except AssertionError as exc:
            seen.append(exc)
        return [b"ok"]

    server = StrictServer()
    server.serve(WsgiShim(app, recorder=recorder))
    assert seen == server.raised and len(seen) == 1
    events = recorder.events
    assert [(e.kind, e.data.get("status")) for e in events if e.kind != K.VIOLATION] == [
        (K.REQUEST_START, None),
        (K.WSGI_START_RESPONSE, "200 OK"),
        (K.WSGI_START_RESPONSE, "500 Internal Server Error"),
        (K.WSGI_BODY, None),
        (K.WSGI_CLOSE, None),
        (K.SCHED_THREAD, None),
        (K.REQUEST_END, 200),
    ]
    assert [e.data["rule"] for e in violations(events)] == ["WSGI-002"]


def test_threads_model_rejected_status_keeps_the_accepted_one() -> None:
    """``threads`` model: a second start_response it refuses (without exc_info: an
    AssertionError, as waitress raises) after a good one: the client gets 200 and so does
    request.end."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", TEXT)
        try:
            start_response("500 Internal Server Error", TEXT)
        except AssertionError:
            pass
        return [b"ok"]

    with running("threads", app, threads=1) as (model, recorder):
        [response] = send_all(model, [Request()], concurrency=1)
    assert response.status == 200
    ends = [e for e in of(recorder.events, response.req) if e.kind == K.REQUEST_END]
    assert [e.data["status"] for e in ends] == [200]


# -- ASGI -------------------------------------------------------------------------------------


async def keeping_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """/keep keeps its ``send``; /late awaits the kept one (and keeps what it raised)."""
    if scope["type"] != "http":
        return
    if scope["path"] == "/keep":
        KEPT["send"] = send
    else:
        try:
            await KEPT["send"](LATE_BODY)  # late send
        except RuntimeError as exc:
            KEPT["error"] = exc
    await send(ASGI_START)
    await send({"type": "http.response.body", "body": b"ok"})


KEPT: dict[str, Any] = {}


def test_asgi_send_kept_for_a_later_request_is_a_violation_of_the_first() -> None:
    """``loop`` model: /late awaits the send /keep kept. The model's send raises (the response
    is complete) and the app gets that very error; the first request gets one ASGI-003 after
    its request.end, on the second request's task, and no asgi.send for the late message."""
    KEPT.clear()
    with running("loop", keeping_app) as (model, recorder):
        first, second = send_all(
            model, [Request(path="/keep"), Request(path="/late")], concurrency=1
        )
    assert (first.status, second.status) == (200, 200)
    assert str(KEPT["error"]) == (
        "Unexpected ASGI message 'http.response.body' sent, after response already completed."
    )
    events = recorder.events
    assert [e.kind for e in of(events, first.req) if e.kind != K.SCHED_STEP] == [
        K.REQUEST_QUEUED,
        K.REQUEST_START,
        K.ASGI_SEND,
        K.ASGI_SEND,
        K.REQUEST_END,
        K.VIOLATION,
    ]
    [violation] = violations(events)
    assert violation.req == first.req
    assert violation.data == late("ASGI-003", "send() of http.response.body", line_of("late send"))
    assert violation.task == f"request-{second.req}"
    assert not [e for e in of(events, second.req) if e.kind == K.VIOLATION]


def test_asgi_send_from_a_task_left_running() -> None:
    """A task the app leaves running sends after the app returned: the server's send gets the
    very message object, and the request gets exactly one ASGI-003 (two late sends)."""
    recorder = Recorder()
    got: list[Any] = []

    async def server_send(message: Any) -> None:
        got.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def main() -> None:
        go = asyncio.Event()
        left: list[asyncio.Task[None]] = []

        async def background(send: Any) -> None:
            await go.wait()
            await send(LATE_BODY)  # send from a task
            await send(LATE_BODY)

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            left.append(asyncio.create_task(background(send), name="left-running"))
            await send(ASGI_START)
            await send({"type": "http.response.body", "body": b"ok"})

        scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
        await AsgiShim(app, recorder=recorder)(scope, receive, server_send)
        go.set()
        await left[0]

    asyncio.run(main())
    assert got[2:] == [LATE_BODY, LATE_BODY] and got[2] is LATE_BODY
    events = [e for e in recorder.events if e.kind != K.SCHED_STEP]
    assert [e.kind for e in events] == [
        K.REQUEST_START,
        K.ASGI_SEND,
        K.ASGI_SEND,
        K.REQUEST_END,
        K.VIOLATION,
    ]
    assert events[-1].data == late(
        "ASGI-003", "send() of http.response.body", line_of("send from a task")
    )
    assert events[-1].task == "left-running"


# -- correct apps -----------------------------------------------------------------------------


def test_correct_apps_have_no_late_call_violations() -> None:
    """Apps that use their callables only while serving: no violation at all, on both models."""
    with running("threads", hello.application, threads=2) as (model, recorder):
        send_all(model, [Request()] * 4, concurrency=2)
    assert not violations(recorder.events)
    assert len([e for e in recorder.events if e.kind == K.REQUEST_END]) == 4
    with running("loop", hello.asgi_app) as (model, recorder):
        send_all(model, [Request()] * 4, concurrency=2)
    assert not violations(recorder.events)
    assert len([e for e in recorder.events if e.kind == K.REQUEST_END]) == 5  # and lifespan


# -- waitress ---------------------------------------------------------------------------------

WAITRESS_APP = """
KEPT = {}
TEXT = [("Content-Type", "text/plain")]


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/keep":
        KEPT["start_response"] = start_response
        start_response("200 OK", TEXT)
        return [b"kept"]
    if path == "/late":
        try:
            KEPT["start_response"]("200 OK", TEXT)  # late in waitress
        except AssertionError:  # waitress: the first request is complete
            start_response("202 Accepted", TEXT)
            return [b"refused"]
        start_response("500 Internal Server Error", TEXT)
        return [b"accepted?"]
    start_response("200 OK", TEXT)
    try:
        start_response("500 Internal Server Error", TEXT)  # rejected: no exc_info
    except AssertionError:
        pass
    return [b"twice"]
"""


def test_waitress_late_and_rejected_start_response(tmp_path: Path) -> None:
    """Real waitress, one thread: a start_response kept from /keep and called in /late raises
    waitress's AssertionError into the app (202) and is WSGI-026 of /keep; /twice's second
    start_response, which waitress rejects, leaves request.end's status at the accepted 200."""
    app_file = tmp_path / "late_calls_app.py"
    app_file.write_text(textwrap.dedent(WAITRESS_APP), encoding="utf-8")
    run = run_real(
        "waitress", "late_calls_app:app",
        ClientConfig(concurrency=1, requests=3, paths=("/keep", "/late", "/twice")),
        app_dir=str(tmp_path), threads=1,
    )  # fmt: skip
    starts = {e.data["path"]: e.req for e in run.kinds(K.REQUEST_START)}
    assert set(starts) == {"/keep", "/late", "/twice"}
    ends = {e.req: e.data["status"] for e in run.kinds(K.REQUEST_END)}
    assert [ends[starts[path]] for path in ("/keep", "/late", "/twice")] == [200, 202, 200]
    assert run.stats.status == {200: 2, 202: 1}
    found = [(e.req, e.data["rule"]) for e in run.kinds(K.VIOLATION)]
    assert found == [(starts["/keep"], "WSGI-026"), (starts["/twice"], "WSGI-002")]
    [violation] = [e for e in run.kinds(K.VIOLATION) if e.data["rule"] == "WSGI-026"]
    line = line_of("late in waitress", str(app_file)).rsplit(":", 1)[1]
    assert violation.data["message"] == (
        "start_response or write called after the request ended: start_response('200 OK', ...)"
    )
    assert violation.data["location"].endswith(f"late_calls_app.py:{line}")
    twice = [
        e.data["status"] for e in run.kinds(K.WSGI_START_RESPONSE) if e.req == starts["/twice"]
    ]
    assert twice == ["200 OK", "500 Internal Server Error"]

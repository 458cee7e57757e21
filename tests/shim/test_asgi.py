"""The ASGI shim: exact events for one request, real FastAPI and raw apps, transparency, failures."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from asgiref.testing import ApplicationCommunicator
from fastapi import APIRouter, FastAPI
from shim_asgi_apps import (
    BOOM,
    USER,
    Asgi2Hello,
    Boom,
    api,
    awaits_a_failing_helper,
    blocker,
    call,
    chunked_echo,
    fetch,
    get,
    http_scope,
    kinds,
    line_of,
    of,
    raiser,
    sends_a_number,
    sets_context,
    sleepy,
    timeline,
    traced,
    until,
    websocket_echo,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Host, Mount, Route, Router

import tracer
from sample_apps.hello import asgi_app as hello
from tracer import events as K
from tracer.conformance import AsgiChecker
from tracer.errors import UsageError
from tracer.recorder import Recorder
from tracer.redact import REDACTED
from tracer.shim import asgi_cycle as shim_module
from tracer.shim.asgi import AsgiShim
from tracer.shim.context import CURRENT
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(60)

APPS = "shim_asgi_apps.py"


def test_hello_exact_events() -> None:
    """The seed example through httpx: start, one step holding both sends, end — exactly."""
    shim, rec = traced(hello)
    response = get(shim, "/hello")
    assert (response.status_code, response.text) == (200, "Hello, World!")
    assert response.headers["content-type"] == "text/plain"
    events = timeline(rec)
    assert kinds(events) == [
        K.REQUEST_START,
        K.SCHED_STEP,
        K.ASGI_SEND,
        K.ASGI_SEND,
        K.REQUEST_END,
    ]
    start, step, head, body, end = events
    assert {e.req for e in events} == {1}
    assert len({(e.tid, e.task) for e in events}) == 1 and start.task is not None
    assert start.data == {
        "method": "GET",
        "path": "/hello",
        "query": "",
        "http_version": "1.1",
        "scheme": "http",
        "client": ["127.0.0.1", 123],
        "server": ["testserver", None],
        "interface": "asgi",
        "scope_type": "http",
        "headers": [
            ["host", "testserver"],
            ["accept", "*/*"],
            ["accept-encoding", "gzip, deflate"],
            ["connection", "keep-alive"],
            ["user-agent", f"python-httpx/{__import__('httpx').__version__}"],
        ],
        "asgi_version": "3.0",
    }
    assert step.data == {"cpu_ns": step.data["cpu_ns"], "awaiting": None, "location": None}
    assert 0 <= step.data["cpu_ns"]
    assert head.data == {
        "type": "http.response.start",
        "status": 200,
        "bytes": None,
        "more_body": None,
    }
    assert body.data == {
        "type": "http.response.body",
        "status": None,
        "bytes": 13,
        "more_body": False,
    }
    assert end.data == {"status": 200, "bytes_in": 0, "bytes_out": 13, "error": None}
    # Both sends ran inside the app's only step.
    assert step.t <= head.t <= head.end <= body.t <= body.end <= step.end <= end.t


def test_request_id_from_the_scope_extension() -> None:
    """A server model's id in scope["extensions"]["gateway_tracer"]["req"] is the one used."""
    shim, rec = traced(hello)

    async def main() -> list[dict[str, Any]]:
        return await call(shim, "/", extensions={"gateway_tracer": {"req": 42}})

    sent = asyncio.run(main())
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert {e.req for e in rec.events} == {42}


def test_chunked_request_and_response_bodies() -> None:
    """Through asgiref's communicator: each receive and each chunk sent, with sizes, in order."""
    shim, rec = traced(chunked_echo)

    async def main() -> list[dict[str, Any]]:
        comm = ApplicationCommunicator(shim, http_scope("/echo", method="POST"))
        await comm.send_input({"type": "http.request", "body": b"abc", "more_body": True})
        await until(lambda: any(e.kind == K.SCHED_STEP for e in rec.events))
        await comm.send_input({"type": "http.request", "body": b"de", "more_body": False})
        out = [await comm.receive_output() for _ in range(3)]
        await comm.wait()
        return out

    out = asyncio.run(main())
    assert [(m["type"], m.get("body"), m.get("more_body")) for m in out] == [
        ("http.response.start", None, None),
        ("http.response.body", b"abc", True),
        ("http.response.body", b"de", False),
    ]
    events = timeline(rec)
    assert kinds(events) == [
        K.REQUEST_START,
        K.SCHED_STEP,
        K.ASGI_RECEIVE,
        K.ASGI_RECEIVE,
        K.SCHED_STEP,
        K.ASGI_SEND,
        K.ASGI_SEND,
        K.ASGI_SEND,
        K.REQUEST_END,
    ]
    first_step, second_step = of(events, kind=K.SCHED_STEP)
    assert first_step.data["awaiting"] == "receive"
    assert first_step.data["location"].endswith(f"{APPS}:{line_of('RECEIVES')}")
    assert second_step.data["awaiting"] is None
    first, second = of(events, kind=K.ASGI_RECEIVE)
    assert first.data == {"type": "http.request", "bytes": 3, "more_body": True}
    assert second.data == {"type": "http.request", "bytes": 2, "more_body": False}
    # The second receive was called in the first step and returned in the second.
    assert first_step.t < second.t < first_step.end <= second_step.t < second.end
    assert [e.data["bytes"] for e in of(events, kind=K.ASGI_SEND)] == [None, 3, 2]
    assert events[-1].data == {"status": 201, "bytes_in": 5, "bytes_out": 5, "error": None}


def test_websocket_echo_is_one_long_request() -> None:
    """A websocket session: every message in and out, one request, status 101 once accepted.
    The scope leaves out the optional scheme and http_version: recorded as the spec's
    defaults."""
    shim, rec = traced(websocket_echo)
    scope = {"type": "websocket", "asgi": {"version": "3.0"}, "path": "/ws"}

    async def main() -> list[dict[str, Any]]:
        comm = ApplicationCommunicator(shim, scope)
        await comm.send_input({"type": "websocket.connect"})
        out = [await comm.receive_output()]
        await comm.send_input({"type": "websocket.receive", "text": "héllo"})
        out.append(await comm.receive_output())
        await comm.send_input({"type": "websocket.receive", "bytes": b"\x00\x01"})
        out.append(await comm.receive_output())
        await comm.send_input({"type": "websocket.disconnect", "code": 1001})
        await comm.wait()
        return out

    out = asyncio.run(main())
    assert out == [
        {"type": "websocket.accept"},
        {"type": "websocket.send", "text": "héllo"},
        {"type": "websocket.send", "bytes": b"\x00\x01"},
    ]
    events = timeline(rec)
    messages = [
        (e.kind, e.data["type"], e.data["bytes"])
        for e in events
        if e.kind in (K.ASGI_RECEIVE, K.ASGI_SEND)
    ]
    assert messages == [
        (K.ASGI_RECEIVE, "websocket.connect", None),
        (K.ASGI_SEND, "websocket.accept", None),
        (K.ASGI_RECEIVE, "websocket.receive", 6),
        (K.ASGI_SEND, "websocket.send", 6),
        (K.ASGI_RECEIVE, "websocket.receive", 2),
        (K.ASGI_SEND, "websocket.send", 2),
        (K.ASGI_RECEIVE, "websocket.disconnect", None),
    ]
    assert of(events, kind=K.ASGI_RECEIVE)[-1].data["code"] == 1001
    assert {e.req for e in events} == {1}
    assert events[0].data["scope_type"] == "websocket"
    assert (events[0].data["scheme"], events[0].data["http_version"]) == ("ws", "1.1")
    assert events[-1].data == {"status": 101, "bytes_in": 8, "bytes_out": 8, "error": None}


def test_lifespan_startup_and_shutdown() -> None:
    """The lifespan connection is a request of scope_type lifespan, left out of the summary."""
    shim, rec = traced(hello)

    async def main() -> list[dict[str, Any]]:
        comm = ApplicationCommunicator(shim, {"type": "lifespan", "asgi": {"version": "3.0"}})
        await comm.send_input({"type": "lifespan.startup"})
        out = [await comm.receive_output()]
        await comm.send_input({"type": "lifespan.shutdown"})
        out.append(await comm.receive_output())
        await comm.wait()
        return out

    out = asyncio.run(main())
    assert out == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
    events = timeline(rec)
    assert [(e.kind, e.data.get("type")) for e in events if e.kind != K.SCHED_STEP] == [
        (K.REQUEST_START, None),
        (K.ASGI_RECEIVE, "lifespan.startup"),
        (K.ASGI_SEND, "lifespan.startup.complete"),
        (K.ASGI_RECEIVE, "lifespan.shutdown"),
        (K.ASGI_SEND, "lifespan.shutdown.complete"),
        (K.REQUEST_END, None),
    ]
    assert events[0].data["scope_type"] == "lifespan"
    assert summarize(events)["requests"] == 0


def test_time_sleep_in_async_def_blocks_the_loop_and_names_the_line() -> None:
    """A raw app's time.sleep: loop.blocked names that request, the line, and who it delayed."""
    shim, rec = traced(sleepy)
    blocking, _ = traced(blocker)
    blocking.recorder = rec  # both apps record into one recording, as on one server

    async def main() -> None:
        waiting = asyncio.create_task(call(shim, "/sleepy"))
        await until(lambda: any(e.kind == K.SCHED_STEP for e in rec.events))
        await call(blocking, "/blocker")
        await waiting

    asyncio.run(main())
    events = timeline(rec)
    ids = {e.data["path"]: e.req for e in of(events, kind=K.REQUEST_START)}
    (blocked,) = of(events, kind=K.LOOP_BLOCKED)
    assert blocked.req == ids["/blocker"]
    assert blocked.data["location"].endswith(f"{APPS}:{line_of('BLOCKS')}")
    assert blocked.data["delayed"] == [ids["/sleepy"]]
    (culprit_step,) = of(events, ids["/blocker"], K.SCHED_STEP)
    assert (blocked.t, blocked.dur) == (culprit_step.t, culprit_step.dur)
    assert culprit_step.data["cpu_ns"] < culprit_step.dur // 2  # sleeping, not computing
    (sleep_step, _) = of(events, ids["/sleepy"], K.SCHED_STEP)
    assert sleep_step.data["awaiting"] == "asyncio.sleep"
    assert sleep_step.data["location"].endswith(f"{APPS}:{line_of('SLEEPS')}")


def test_fastapi_blocking_endpoint_is_named() -> None:
    """FastAPI: time.sleep in an async endpoint is loop.blocked of that request at that line."""
    shim, rec = traced(api)

    async def main() -> list[Any]:
        return await fetch(shim, "/items/1", "/block")

    responses = asyncio.run(main())
    assert [r.json() for r in responses] == [{"item": 1, "q": ""}, {"blocked": "yes"}]
    events = timeline(rec)
    ids = {e.data["path"]: e.req for e in of(events, kind=K.REQUEST_START)}
    blocked = [e for e in of(events, kind=K.LOOP_BLOCKED) if e.req == ids["/block"]]
    assert len(blocked) == 1
    assert blocked[0].data["location"].endswith(f"{APPS}:{line_of('API_BLOCKS')}")


def test_twenty_concurrent_sleeps_overlap() -> None:
    """20 requests awaiting asyncio.sleep interleave on one loop: all are in flight at once."""
    shim, rec = traced(sleepy)
    responses = asyncio.run(fetch(shim, *[f"/r{i}" for i in range(20)]))
    assert [r.text for r in responses] == ["slept"] * 20
    events = timeline(rec)
    starts = of(events, kind=K.REQUEST_START)
    ends = of(events, kind=K.REQUEST_END)
    assert len(starts) == len(ends) == 20
    assert max(e.t for e in starts) < min(e.t for e in ends)
    assert summarize(events)["max_in_flight"] == 20
    for req in {e.req for e in starts}:
        first, last = of(events, req, K.SCHED_STEP)
        assert first.data["awaiting"] == "asyncio.sleep" and last.data["awaiting"] is None


def test_fastapi_def_endpoint_shows_its_thread_hop() -> None:
    """A def endpoint runs on anyio's worker thread: a sched.thread of the request, off-loop."""
    shim, rec = traced(api)
    response = get(shim, "/sync")
    assert response.json() == {"sum": 499500, "thread": "worker"}
    events = timeline(rec)
    (start,) = of(events, kind=K.REQUEST_START)
    # FastAPI hops for the endpoint and again to validate a def endpoint's response.
    hops = of(events, kind=K.SCHED_THREAD)
    assert hops and {(h.req, h.data["via"]) for h in hops} == {(start.req, "anyio.to_thread")}
    end = of(events, kind=K.REQUEST_END)[0]
    for hop in hops:
        assert hop.tid != start.tid and hop.task is None
        assert start.t < hop.t and hop.end < end.t
    waits = [e for e in of(events, kind=K.SCHED_STEP) if e.data["awaiting"]]
    assert waits and {e.data["awaiting"] for e in waits} == {"anyio.to_thread.run_sync"}
    # Each hop runs while the request is suspended awaiting it.
    for hop in hops:
        assert any(w.end <= hop.t for w in waits)


def test_secrets_are_redacted_by_default() -> None:
    """Authorization, Cookie, X-Api-Key values and token-like query values never reach events."""
    headers = {"Authorization": "Bearer s3cret", "Cookie": "sid=abc", "X-Api-Key": "k", "X-Ok": "v"}

    def recorded(**options: Any) -> dict[str, Any]:
        shim, rec = traced(hello, **options)
        get(shim, "/?token=t0k&page=2", headers=headers)
        return of(rec.events, kind=K.REQUEST_START)[0].data

    data = recorded()
    seen = dict(data["headers"])
    assert seen["authorization"] == seen["cookie"] == seen["x-api-key"] == REDACTED
    assert seen["x-ok"] == "v"
    assert data["query"] == f"token={REDACTED}&page=2"
    assert "s3cret" not in repr(data) and "t0k" not in repr(data)

    plain = recorded(redact=False)
    assert dict(plain["headers"])["authorization"] == "Bearer s3cret"
    assert plain["query"] == "token=t0k&page=2"

    custom = dict(recorded(redact_headers={"X-Ok"})["headers"])
    assert custom["x-ok"] == REDACTED and custom["authorization"] == "Bearer s3cret"


@pytest.mark.parametrize("path", ["/items/3?q=x", "/sync", "/async-sleep", "/nope", "/block"])
def test_responses_are_the_same_wrapped_and_unwrapped(path: str) -> None:
    """FastAPI answers identically (status, headers, body) with and without the shim."""
    shim, _ = traced(api)
    plain, wrapped = get(api, path), get(shim, path)
    assert (wrapped.status_code, wrapped.headers.raw, wrapped.content) == (
        plain.status_code,
        plain.headers.raw,
        plain.content,
    )


@pytest.mark.parametrize("app,path", [(raiser, "/"), (api, "/fail")])
def test_exceptions_propagate_as_the_same_object(app: Any, path: str) -> None:
    """The app's exception comes out of the shim as the very same object, recorded as error."""
    with pytest.raises(Boom) as plain:
        get(app, path)
    shim, rec = traced(app)
    with pytest.raises(Boom) as wrapped:
        get(shim, path)
    assert plain.value is wrapped.value is BOOM
    (error,) = of(rec.events, kind=K.ERROR)
    assert error.data["type"] == "Boom" and error.data["message"] == "it broke"
    if app is raiser:
        assert error.data["where"].endswith(f"{APPS}:{line_of('RAISES')}")
    assert of(rec.events, kind=K.REQUEST_END)[0].data["error"] == "Boom"


@pytest.mark.parametrize(
    "app,error,marker",
    [
        (sends_a_number, TypeError, "SENDS_NUMBER"),
        (awaits_a_failing_helper, ValueError, "FAILS_DEEP"),
    ],
    ids=["sends-a-number", "awaited-helper"],
)
def test_error_where_is_the_app_line_never_the_shim(app: Any, error: type, marker: str) -> None:
    """An app that sends a non-message (the server's send raises under our send wrapper) or
    raises inside an awaited helper: ``where`` is that app line, not a file of the tracer."""
    shim, rec = traced(app)
    with pytest.raises(error):
        get(shim)
    (event,) = of(rec.events, kind=K.ERROR)
    assert event.data["type"] == error.__name__
    assert event.data["where"].endswith(f"{APPS}:{line_of(marker)}")


def test_context_variables_set_by_the_app_stay_visible() -> None:
    """A context variable the app sets is seen by its caller as without the shim; ours is gone."""

    async def run(app: Any) -> tuple[str | None, Any]:
        await call(app)
        return USER.get(), CURRENT.get()

    shim, _ = traced(sets_context)
    assert asyncio.run(run(sets_context)) == asyncio.run(run(shim)) == ("alice", None)


def test_cancellation_reaches_the_app_and_comes_back_out() -> None:
    """Cancelling the server's task cancels the app inside the shim exactly as without it."""

    def scenario(wrap: bool) -> tuple[list[str], list[Any]]:
        seen: list[str] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                seen.append("cancelled")
                raise
            finally:
                seen.append("finally")

        shim, rec = traced(app)

        async def main() -> None:
            task = asyncio.create_task(call(shim if wrap else app))
            await until(lambda: bool(seen) or not wrap or bool(of(rec.events, kind=K.SCHED_STEP)))
            await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            seen.append("caller saw CancelledError")

        asyncio.run(main())
        return seen, rec.events

    plain, _ = scenario(False)
    wrapped, events = scenario(True)
    assert plain == wrapped == ["cancelled", "finally", "caller saw CancelledError"]
    assert not of(events, kind=K.ERROR)
    assert of(events, kind=K.REQUEST_END)[0].data["error"] == "cancelled"


def test_asgi2_apps_are_wrapped_too() -> None:
    """A double-callable (ASGI 2) app answers through the shim and is recorded as such."""
    for version in ("asgi2", "auto"):
        shim, rec = traced(Asgi2Hello, asgi_version=version)
        assert get(shim).text == "asgi2"
        assert of(rec.events, kind=K.REQUEST_START)[0].data["asgi_version"] == "2.0"
        assert of(rec.events, kind=K.REQUEST_END)[0].data["status"] == 200


def test_instrument_returns_the_asgi_shim() -> None:
    """tracer.instrument detects an ASGI app and wraps it in AsgiShim with the options given."""
    rec = Recorder()
    app = tracer.instrument(hello, recorder=rec, block_threshold_ms=5)
    assert isinstance(app, AsgiShim) and app.block_ns == 5_000_000
    assert get(app).text == "Hello, World!"
    with pytest.raises(UsageError, match="colour"):
        AsgiShim(hello, recorder=rec, colour="red")


class _FailingRecorder(Recorder):
    """A recorder that breaks on every asgi.send, as a bug in our own code would."""

    def emit(self, kind: str, *args: Any, **kwargs: Any) -> None:
        if kind == K.ASGI_SEND:
            raise RuntimeError("recording broke")
        super().emit(kind, *args, **kwargs)


def test_a_failure_inside_the_shim_is_logged_once_and_never_breaks_a_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Recording that raises: every response is still right; the failure is logged once."""
    rec = _FailingRecorder()
    shim = AsgiShim(hello, recorder=rec)
    with caplog.at_level(logging.ERROR, logger="tracer"):
        responses = asyncio.run(fetch(shim, "/a", "/b", "/c"))
    assert [r.text for r in responses] == ["Hello, World!"] * 3
    assert len([r for r in caplog.records if r.name == "tracer"]) == 1
    assert len(of(rec.events, kind=K.REQUEST_START)) == 3


def test_checker_reports_become_violations_and_a_broken_checker_is_dropped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """What the checker reports is a violation event; a checker that raises is disabled."""
    calls: list[str] = []

    class Reporting(AsgiChecker):
        def send(self, message: Any) -> None:
            calls.append(message["type"])
            self.report("asgi.test-rule", "a rule", seen=message["type"])

    monkeypatch.setattr(shim_module, "AsgiChecker", Reporting)
    shim, rec = traced(hello)
    get(shim)
    assert [
        (e.data["rule"], e.data["message"], e.data["seen"])
        for e in rec.events
        if e.kind == K.VIOLATION
    ] == [
        ("asgi.test-rule", "a rule", "http.response.start"),
        ("asgi.test-rule", "a rule", "http.response.body"),
    ]

    class Broken(AsgiChecker):
        def send(self, message: Any) -> None:
            calls.append("broken")
            raise ValueError("checker bug")

    monkeypatch.setattr(shim_module, "AsgiChecker", Broken)
    calls.clear()
    shim, rec = traced(hello)
    with caplog.at_level(logging.ERROR, logger="tracer"):
        responses = asyncio.run(fetch(shim, "/1", "/2"))
    assert [r.text for r in responses] == ["Hello, World!"] * 2
    assert calls == ["broken", "broken"]  # once per request, then disabled for it
    assert len([r for r in caplog.records if r.name == "tracer"]) == 1
    assert len(of(rec.events, kind=K.ASGI_SEND)) == 4


def test_a_send_the_server_refused_sets_no_status() -> None:
    """The server's send raised on http.response.start (the client left): the attempt is
    recorded, but the request has no status and no bytes out, since nothing went out."""

    class Gone(Exception):
        pass

    async def send(message: dict[str, Any]) -> None:
        raise Gone()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    shim, rec = traced(hello)
    scope = {"type": "http", "asgi": {"version": "3.0"}, "method": "GET", "path": "/"}
    with pytest.raises(Gone):
        asyncio.run(shim(scope, receive, send))
    events = timeline(rec)
    assert [e.data["type"] for e in of(events, kind=K.ASGI_SEND)] == ["http.response.start"]
    end = of(events, kind=K.REQUEST_END)[0]
    assert (end.data["status"], end.data["bytes_out"], end.data["error"]) == (None, 0, "Gone")


class Refused(Exception):
    """What a server's ``send`` raises for a message it will not take."""


async def _refuses_bodies_before_a_start(message: dict[str, Any]) -> None:
    if message["type"] != "http.response.start":
        raise Refused(message["type"])


async def _body_before_start(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.body", "body": b"x"})


async def _unknown_message(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.weird"})


async def _returns_without_a_response(scope: Any, receive: Any, send: Any) -> None:
    await receive()


async def _raises_its_own_cancellation(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    raise asyncio.CancelledError()


async def _exits(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    raise SystemExit(3)


async def _interrupted(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("app", "error"),
    [
        (_body_before_start, "Refused"),
        (_unknown_message, "Refused"),
        (_returns_without_a_response, None),
        (_raises_its_own_cancellation, "CancelledError"),
        (_exits, "SystemExit"),  # uvicorn catches BaseException and answers 500
        (_interrupted, "KeyboardInterrupt"),
    ],
)
def test_an_app_that_ends_without_a_response_start_is_the_servers_500(
    app: Any, error: str | None
) -> None:
    """A body or unknown message the server refused before any start, an app returning without
    a response, a ``CancelledError`` the app raised itself (its task was not cancelled), a
    ``SystemExit`` or ``KeyboardInterrupt`` (uvicorn's 500): the server answers 500, and
    ``request.end`` says so, with the app's error."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    shim, rec = traced(app)
    scope = {"type": "http", "asgi": {"version": "3.0"}, "method": "GET", "path": "/"}

    async def main() -> None:
        try:
            await shim(scope, receive, _refuses_bodies_before_a_start)
        except (Refused, asyncio.CancelledError, SystemExit, KeyboardInterrupt) as exc:
            assert type(exc).__name__ == error

    asyncio.run(main())
    end = of(timeline(rec), kind=K.REQUEST_END)[0]
    assert (end.data["status"], end.data["error"]) == (500, error)
    assert [e.data["type"] for e in of(rec.events, kind=K.ERROR)] == ([error] if error else [])


@pytest.mark.parametrize("raises", [False, True])
def test_an_app_whose_client_left_first_gets_no_500(raises: bool) -> None:
    """The app received ``http.disconnect`` and then returned or raised without a response:
    the server answers nobody (uvicorn and hypercorn send nothing), so no status."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        if raises:
            raise RuntimeError("gone")

    messages = iter(
        [{"type": "http.request", "body": b"", "more_body": False}, {"type": "http.disconnect"}]
    )

    async def receive() -> dict[str, Any]:
        return next(messages)

    shim, rec = traced(app)
    scope = {"type": "http", "asgi": {"version": "3.0"}, "method": "GET", "path": "/"}

    async def main() -> None:
        try:
            await shim(scope, receive, _refuses_bodies_before_a_start)
        except RuntimeError:
            assert raises

    asyncio.run(main())
    end = of(timeline(rec), kind=K.REQUEST_END)[0]
    assert (end.data["status"], end.data["error"]) == (None, "RuntimeError" if raises else None)


# -- route templates under mounts ---------------------------------------------------------------


async def ok(request: Request) -> Response:
    """A Starlette endpoint."""
    return PlainTextResponse("ok")


def items() -> Starlette:
    """A Starlette sub-app with one parametrised route."""
    return Starlette(routes=[Route("/items/{n}", ok)])


def fastapi_with_prefixes() -> FastAPI:
    """A FastAPI app whose route sits under two ``include_router`` prefixes (not mounts)."""
    app, outer, inner = FastAPI(), APIRouter(prefix="/a"), APIRouter(prefix="/b")

    @inner.get("/items/{item_id}")
    async def item(item_id: int) -> int:
        return item_id

    outer.include_router(inner)
    app.include_router(outer, prefix="/v1")
    return app


def fastapi_mounting(sub: FastAPI) -> FastAPI:
    """A FastAPI app with ``sub`` mounted under a path parameter."""
    app = FastAPI()
    app.mount("/tenants/{tenant}", sub)
    return app


TWICE = items()  # one sub-app mounted at two prefixes

ROUTED = [
    pytest.param(items(), "/items/1", "/items/{n}", id="no-mount"),
    pytest.param(
        Starlette(routes=[Mount("/api", routes=[Route("/items/{n}", ok)])]),
        "/api/items/1",
        "/api/items/{n}",
        id="mount",
    ),
    pytest.param(
        Starlette(routes=[Mount("/api", app=Starlette(routes=[Mount("/v1", app=items())]))]),
        "/api/v1/items/1",
        "/api/v1/items/{n}",
        id="nested-sub-apps",
    ),
    pytest.param(
        Starlette(routes=[Mount("/users/{uid}", routes=[Mount("/v1", app=items())])]),
        "/users/7/v1/items/1",
        "/users/{uid}/v1/items/{n}",
        id="mount-with-a-parameter",
    ),
    pytest.param(
        Starlette(routes=[Host("api.example.com", app=Router([Mount("/v1", app=items())]))]),
        "http://api.example.com/v1/items/1",
        "/v1/items/{n}",
        id="host-then-mount",
    ),
    pytest.param(
        Starlette(routes=[Mount("/v1", app=TWICE), Mount("/v2", app=TWICE)]),
        "/v2/items/1",
        "/v2/items/{n}",
        id="one-sub-app-mounted-twice",
    ),
    pytest.param(
        fastapi_with_prefixes(), "/v1/a/b/items/3", "/v1/a/b/items/{item_id}", id="fastapi"
    ),
    pytest.param(
        fastapi_mounting(fastapi_with_prefixes()),
        "/tenants/x/v1/a/b/items/3",
        "/tenants/{tenant}/v1/a/b/items/{item_id}",
        id="fastapi-mounted",
    ),
]


@pytest.mark.parametrize("app,url,template", ROUTED)
def test_route_is_the_whole_template_mounts_and_prefixes_included(
    app: Any, url: str, template: str
) -> None:
    """``request.end``'s route is the template of the whole path (OpenTelemetry's
    ``http.route``): every Mount's path, parameters as templates, Host adding nothing,
    FastAPI's include_router prefixes; a sub-app mounted twice gets the prefix it was reached
    by. The same twice in a row (the second time the mount chain is remembered)."""
    shim, rec = traced(app)
    for _ in range(2):
        assert get(shim, url).status_code == 200
    assert [e.data.get("route") for e in of(rec.events, kind=K.REQUEST_END)] == [template] * 2


def test_a_mounted_sub_app_instrumented_itself_records_the_whole_template() -> None:
    """The shim around a mounted sub-app, not around the app that mounts it: the template
    still starts at the outermost router (the mount's prefix included)."""
    rec = Recorder()
    outer = Starlette(routes=[Mount("/api/{version}", app=AsgiShim(items(), recorder=rec))])
    assert get(outer, "/api/2/items/1").text == "ok"
    (end,) = of(rec.events, kind=K.REQUEST_END)
    assert end.data["route"] == "/api/{version}/items/{n}"


# -- the lifespan's end drains the recorder -----------------------------------------------------


def test_the_lifespan_end_puts_the_recording_on_disk(tmp_path: Any) -> None:
    """When the lifespan call returns (the server shuts down), the file already holds the
    lifespan's request.end: a server that then dies without atexit loses nothing. The
    recorder's own thread would drain only after an hour here."""
    path = tmp_path / "run.jsonl"
    rec = Recorder(path, flush_interval=3600)
    shim = AsgiShim(hello, recorder=rec)

    async def main() -> None:
        comm = ApplicationCommunicator(shim, {"type": "lifespan", "asgi": {"version": "3.0"}})
        await comm.send_input({"type": "lifespan.startup"})
        await comm.receive_output()
        await comm.send_input({"type": "lifespan.shutdown"})
        await comm.receive_output()
        await comm.wait()

    asyncio.run(main())
    on_disk = [e for e in tracer.load(path).events if e.kind != K.SCHED_STEP]
    assert [(e.kind, e.data.get("type")) for e in on_disk] == [
        (K.REQUEST_START, None),
        (K.ASGI_RECEIVE, "lifespan.startup"),
        (K.ASGI_SEND, "lifespan.startup.complete"),
        (K.ASGI_RECEIVE, "lifespan.shutdown"),
        (K.ASGI_SEND, "lifespan.shutdown.complete"),
        (K.REQUEST_END, None),
    ]
    rec.close()


# -- one recorder, one request, however often the app is wrapped --------------------------------


class PassOn:
    """Middleware between two shims: passes the scope on, or a copy of it."""

    def __init__(self, app: Any, *, copy: bool = False) -> None:
        self.app = app
        self.copy = copy

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.app(dict(scope) if self.copy else scope, receive, send)


async def lifespan_and_websocket(app: Any) -> None:
    """A lifespan (startup, shutdown) and a websocket session, as a server drives them."""
    comm = ApplicationCommunicator(app, {"type": "lifespan", "asgi": {"version": "3.0"}})
    await comm.send_input({"type": "lifespan.startup"})
    await comm.receive_output()
    await comm.send_input({"type": "lifespan.shutdown"})
    await comm.receive_output()
    await comm.wait()
    scope = {"type": "websocket", "asgi": {"version": "3.0"}, "path": "/ws", "headers": []}
    comm = ApplicationCommunicator(app, scope)
    await comm.send_input({"type": "websocket.connect"})
    await comm.receive_output()
    await comm.send_input({"type": "websocket.disconnect", "code": 1000})
    await comm.wait()


async def lifespan_websocket_http(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers lifespan like hello, accepts websockets, says hello over http."""
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        return
    await hello(scope, receive, send)


@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(
            lambda app, rec: AsgiShim(AsgiShim(app, recorder=rec), recorder=rec), id="twice"
        ),
        pytest.param(
            lambda app, rec: AsgiShim(PassOn(AsgiShim(app, recorder=rec)), recorder=rec),
            id="middleware-between",
        ),
        pytest.param(
            lambda app, rec: AsgiShim(PassOn(AsgiShim(app, recorder=rec), copy=True), recorder=rec),
            id="middleware-copying-the-scope",
        ),
        pytest.param(
            lambda app, rec: AsgiShim(
                AsgiShim(AsgiShim(app, recorder=rec), recorder=Recorder()), recorder=rec
            ),
            id="another-recorder-between",
        ),
    ],
)
def test_a_recorder_records_each_connection_once_however_often_the_app_is_wrapped(
    wrap: Any,
) -> None:
    """Shims of one recorder around one app: the innermost passes each connection (http,
    websocket, lifespan) straight to the app, so each is one request with one start and end,
    its events all under that request."""
    rec = Recorder()
    app = wrap(lifespan_websocket_http, rec)
    assert get(app).text == "Hello, World!"
    asyncio.run(lifespan_and_websocket(app))
    events = rec.events
    starts = of(events, kind=K.REQUEST_START)
    assert [e.data["scope_type"] for e in starts] == ["http", "lifespan", "websocket"]
    assert len(of(events, kind=K.REQUEST_END)) == 3
    assert {e.req for e in events} == {e.req for e in starts}
    assert summarize(events)["requests"] == 2  # the lifespan is no request of the summary


def test_two_recorders_both_record_everything() -> None:
    """Shims of two recorders around one app: each recorder sees every connection."""
    first, second = Recorder(), Recorder()
    app = AsgiShim(AsgiShim(lifespan_websocket_http, recorder=first), recorder=second)
    assert get(app).text == "Hello, World!"
    asyncio.run(lifespan_and_websocket(app))
    for rec in (first, second):
        kinds_seen = [e.data["scope_type"] for e in of(rec.events, kind=K.REQUEST_START)]
        assert kinds_seen == ["http", "lifespan", "websocket"]
        assert len(of(rec.events, kind=K.REQUEST_END)) == 3


def test_a_request_made_inside_a_request_is_a_request_of_its_own() -> None:
    """An app that calls another app of the same recorder in-process (a new connection, with
    a scope of its own): two requests, not one."""
    rec = Recorder()
    backend = AsgiShim(hello, recorder=rec)

    async def gateway(scope: dict[str, Any], receive: Any, send: Any) -> None:
        transport = httpx.ASGITransport(app=backend)
        async with httpx.AsyncClient(transport=transport, base_url="http://backend") as client:
            answer = await client.get("/inner")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": answer.content})

    assert get(AsgiShim(gateway, recorder=rec), "/outer").text == "Hello, World!"
    starts = of(rec.events, kind=K.REQUEST_START)
    assert [e.data["path"] for e in starts] == ["/outer", "/inner"]
    assert len({e.req for e in starts}) == 2


def test_instrument_returns_a_shim_of_the_same_recorder_and_settings_as_it_is() -> None:
    """``instrument(shim)`` with the shim's own recorder and settings returns it; other
    settings wrap it (the outer shim then records, with its settings)."""
    rec = Recorder()
    shim = tracer.instrument(hello, recorder=rec)
    assert tracer.instrument(shim, recorder=rec) is shim
    looser = tracer.instrument(shim, recorder=rec, block_threshold_ms=50)
    assert looser is not shim and looser.app is shim
    assert tracer.instrument(shim, recorder=Recorder()) is not shim
    get(looser)
    assert len(of(rec.events, kind=K.REQUEST_START)) == 1


class _Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no words")


@pytest.mark.parametrize("message", [_Unprintable(), "x" * 10_000], ids=["unprintable", "long"])
def test_an_exception_that_cannot_be_printed_is_recorded_all_the_same(message: object) -> None:
    """An app's exception whose ``str()`` raises: the shim's own recording failed (a traceback
    of ours, no ``error``, no ``request.end``). It is recorded as the traceback module prints
    it, and comes out unchanged; a long message is cut to 500 characters."""
    raised = ValueError(message)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise raised

    shim, rec = traced(app)
    with pytest.raises(ValueError) as caught:
        get(shim)
    assert caught.value is raised
    (error,) = of(rec.events, kind=K.ERROR)
    expected = "<unprintable ValueError object>" if message != "x" * 10_000 else "x" * 500
    assert error.data["message"] == expected
    assert of(rec.events, kind=K.REQUEST_END)[0].data["error"] == "ValueError"

"""``GeneratorExit`` through the ASGI shim: the app's own is its error (and a 500, as uvicorn,
hypercorn and granian answer it); the shim's coroutine being closed by what drives it is not."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from model_driver import running, send_all
from shim_asgi_apps import http_scope, kinds, of, timeline, traced

from tracer import events as K
from tracer.recorder import Recorder
from tracer.servers import Request
from tracer.shim.asgi import AsgiShim
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(30)

HERE = Path(__file__)


def _where(marker: str) -> str:
    """``file:line`` of the line of this file ending with ``# <marker>``, as ``where`` ends."""
    lines = HERE.read_text(encoding="utf-8").splitlines()
    number = next(n for n, line in enumerate(lines, 1) if line.rstrip().endswith(f"# {marker}"))
    return f"{HERE.name}:{number}"


async def raises_generator_exit(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the request, then raises GeneratorExit itself (nothing closed it)."""
    await receive()
    raise GeneratorExit  # app raises


async def raises_after_start(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Starts a 200, then raises GeneratorExit before its body."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    raise GeneratorExit("after start")  # raises after start


async def _ask(app: Any) -> tuple[BaseException | None, list[dict[str, Any]]]:
    """One GET through ``app`` on this loop: what came out of it, and what it sent."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    try:
        await app(http_scope(), receive, send)
    except GeneratorExit as exc:  # raised, not thrown in: this coroutine is not being closed
        return exc, sent
    return None, sent


def test_generator_exit_raised_by_the_app_is_its_error_and_a_500() -> None:
    """The app raises GeneratorExit mid-request: an ``error`` where it raised, then
    ``request.end`` with status 500 (what uvicorn answers) and the error's name; the same
    exception object comes out of the shim."""
    shim, rec = traced(raises_generator_exit)
    raised, sent = asyncio.run(_ask(shim))
    assert isinstance(raised, GeneratorExit) and sent == []
    events = timeline(rec)
    assert kinds([e for e in events if e.kind != K.SCHED_STEP]) == [
        K.REQUEST_START,
        K.ASGI_RECEIVE,
        K.ERROR,
        K.REQUEST_END,
    ]
    [error] = of(events, kind=K.ERROR)
    assert (error.data["type"], error.data["message"]) == ("GeneratorExit", "")
    assert error.data["where"].endswith(_where("app raises"))
    [end] = of(events, kind=K.REQUEST_END)
    assert (end.data["status"], end.data["error"]) == (500, "GeneratorExit")
    summary = summarize(events)
    assert summary["errors"] == 1 and summary["status"] == {"500": 1}


def test_generator_exit_after_the_response_start_keeps_its_status() -> None:
    """Raised after a 200 went out: the error is recorded, the status stays 200."""
    shim, rec = traced(raises_after_start)
    raised, sent = asyncio.run(_ask(shim))
    assert isinstance(raised, GeneratorExit) and [m["type"] for m in sent] == [
        "http.response.start"
    ]
    events = timeline(rec)
    [error] = of(events, kind=K.ERROR)
    assert error.data["message"] == "after start"
    assert error.data["where"].endswith(_where("raises after start"))
    [end] = of(events, kind=K.REQUEST_END)
    assert (end.data["status"], end.data["error"]) == (200, "GeneratorExit")


def _close_mid_request(closed: AsgiShim, innermost: AsgiShim) -> list[str]:
    """Start a request whose app (run by ``innermost``) waits for the body, then close
    ``closed``'s coroutine, as an event loop closing a task it dropped does. Returns what the
    app saw."""
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            await receive()
        finally:
            seen.append("finally")

    innermost.app = app

    async def main() -> None:
        parked = asyncio.get_running_loop().create_future()

        async def receive() -> dict[str, Any]:
            return await parked

        async def send(message: dict[str, Any]) -> None:
            raise AssertionError("nothing is sent")

        coro = closed(http_scope(), receive, send)
        assert coro.send(None) is parked  # the app waits in receive()
        coro.close()
        parked.cancel()

    asyncio.run(main())
    return seen


def test_a_closed_coroutine_is_not_an_error_of_the_app() -> None:
    """close() on the shim's coroutine closes the app's (its ``finally`` runs); the request
    ends with ``error: "GeneratorExit"`` and no status, and there is no ``error`` event."""
    shim, rec = traced(None)
    assert _close_mid_request(shim, shim) == ["finally"]
    events = timeline(rec)
    assert kinds([e for e in events if e.kind != K.SCHED_STEP]) == [
        K.REQUEST_START,
        K.ASGI_RECEIVE,
        K.REQUEST_END,
    ]
    [receive] = of(events, kind=K.ASGI_RECEIVE)
    assert receive.data["raised"] == "GeneratorExit"  # thrown in where the app waited
    [end] = of(events, kind=K.REQUEST_END)
    assert (end.data["status"], end.data["error"]) == (None, "GeneratorExit")


def test_nested_shims_record_the_apps_generator_exit_each() -> None:
    """Two recorders, one shim inside the other: each records the app's own GeneratorExit as
    an error where the app raised it, and a 500."""
    inner_rec, outer_rec = Recorder(), Recorder()
    inner = AsgiShim(raises_generator_exit, recorder=inner_rec)
    raised, _ = asyncio.run(_ask(AsgiShim(inner, recorder=outer_rec)))
    assert isinstance(raised, GeneratorExit)
    for rec in (inner_rec, outer_rec):
        events = timeline(rec)
        [error] = of(events, kind=K.ERROR)
        assert error.data["where"].endswith(_where("app raises"))
        [end] = of(events, kind=K.REQUEST_END)
        assert end.data["status"] == 500


def test_nested_shims_closed_record_no_error() -> None:
    """Two recorders, one shim inside the other, the outer's coroutine closed: the app's
    ``finally`` runs once, and neither recorder has an error or a status."""
    inner_rec, outer_rec = Recorder(), Recorder()
    inner = AsgiShim(None, recorder=inner_rec)
    outer = AsgiShim(inner, recorder=outer_rec)
    assert _close_mid_request(outer, inner) == ["finally"]
    for rec in (inner_rec, outer_rec):
        events = timeline(rec)
        assert of(events, kind=K.ERROR) == []
        [end] = of(events, kind=K.REQUEST_END)
        assert (end.data["status"], end.data["error"]) == (None, "GeneratorExit")


def test_loop_model_answers_the_apps_generator_exit_with_500() -> None:
    """On ``--server loop`` the request's client gets a 500 and the recording agrees: an
    ``error`` on that request and a ``request.end`` with status 500, the others 200."""

    served = [0]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        served[0] += 1
        if served[0] == 2:
            raise GeneratorExit  # loop model
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    with running("loop", app) as (model, recorder):
        responses = send_all(model, [Request()] * 3, concurrency=1)
    assert [r.status for r in responses] == [200, 500, 200]
    events = recorder.events
    [error] = [e for e in events if e.kind == K.ERROR]
    assert (error.req, error.data["type"]) == (responses[1].req, "GeneratorExit")
    assert error.data["where"].endswith(_where("loop model"))
    ends = {e.req: e.data["status"] for e in events if e.kind == K.REQUEST_END}
    assert [ends[r.req] for r in responses] == [200, 500, 200]
    summary = summarize(events)
    assert summary["errors"] == 1 and summary["status"] == {"200": 2, "500": 1}

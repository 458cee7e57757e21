"""The report's run table: a "loop blocked" line only when the run had an event loop, and a
line saying APP was likely not the app when every request of an ASGI 2 app failed."""

from __future__ import annotations

import asyncio
import io
from typing import Any
from wsgiref.util import setup_testing_defaults

from rich.console import Console

from tracer import instrument
from tracer.digest import Digest
from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.report import ASGI2_FAILED, print_report


def _report(recorder: Recorder) -> str:
    recorder.drain()
    recording = Recording(header=dict(recorder.header), events=list(recorder.events))
    digest = Digest(recording.header)
    digest.feed(recording.events)
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None)
    print_report(recording, digest.summary(), console=console, details=digest.details())
    return out.getvalue()


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def test_a_wsgi_run_has_no_loop_blocked_line() -> None:
    recorder = Recorder()
    try:
        traced = instrument(wsgi_app, recorder=recorder)
        for _ in range(2):
            environ: dict[str, Any] = {}
            setup_testing_defaults(environ)
            body = traced(environ, lambda status, headers, exc_info=None: None)
            assert b"".join(body) == b"ok"
            body.close()
        text = _report(recorder)
    finally:
        recorder.close()
    assert "2 (2 completed)" in text
    assert "loop blocked" not in text.lower()


def _scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": [],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }


async def _serve(app: Any, count: int) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    for _ in range(count):
        try:
            await app(_scope(), receive, send)
        except RuntimeError:
            pass  # the app's own failure: the report counts it


class RaisingAsgi2:
    """An ASGI 2 app (made with the scope, then awaited) that fails every request, as a
    framework's class given as APP does."""

    def __init__(self, scope: dict[str, Any]) -> None:
        self.scope = scope

    async def __call__(self, receive: Any, send: Any) -> None:
        raise RuntimeError("not configured")


class ServingAsgi2:
    """A working ASGI 2 app."""

    def __init__(self, scope: dict[str, Any]) -> None:
        self.scope = scope

    async def __call__(self, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def _asgi_report(app: Any) -> str:
    recorder = Recorder()
    try:
        asyncio.run(_serve(instrument(app, recorder=recorder), 3))
        return _report(recorder)
    finally:
        recorder.close()


def test_every_request_of_an_asgi2_app_failing_says_app_may_not_be_the_app() -> None:
    text = _asgi_report(RaisingAsgi2)
    assert "3 (3 completed)" in text
    assert "loop blocked" in text  # an ASGI app's run had its loop
    assert " ".join(ASGI2_FAILED.split()) in " ".join(text.split())


def test_a_working_asgi2_app_gets_no_such_line() -> None:
    text = _asgi_report(ServingAsgi2)
    assert "3 (3 completed)" in text
    assert "ASGI 2" not in text

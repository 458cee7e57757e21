"""The same breaking and passing apps, through ``tracer.instrument``: violations are events."""

from __future__ import annotations

import asyncio

import pytest
from conformance_cases import (
    ASGI_CASES,
    BODY,
    WSGI_CASES,
    asgi_scope,
    options_for,
    run_asgi_hooks,
    run_wsgi_hooks,
)

import tracer
from tracer import events as K


@pytest.mark.parametrize("rule_id", sorted(WSGI_CASES))
def test_wsgi_rule_through_the_shim(rule_id: str) -> None:
    """A wrapped breaking WSGI app leaves a violation event of the rule; its counterpart none."""
    case = WSGI_CASES[rule_id]
    assert rule_id in run_wsgi_hooks(case.bad, options_for(case, "bad"), shim=True)
    assert run_wsgi_hooks(case.good, options_for(case, "good"), shim=True) == []


@pytest.mark.parametrize("rule_id", sorted(ASGI_CASES))
def test_asgi_rule_through_the_shim(rule_id: str) -> None:
    """A wrapped breaking ASGI app leaves a violation event of the rule; its counterpart none."""
    scope_type, case = ASGI_CASES[rule_id]
    assert rule_id in run_asgi_hooks(case.bad, scope_type, options_for(case, "bad"), shim=True)
    assert run_asgi_hooks(case.good, scope_type, options_for(case, "good"), shim=True) == []


def test_violation_is_recorded_in_protocol_order() -> None:
    """For one request: request.start, then the violation, then the offending asgi.send."""

    async def app(scope: dict, receive: object, send: object) -> None:
        await send(BODY)  # type: ignore[operator]

    recorder = tracer.Recorder()
    traced = tracer.instrument(app, recorder=recorder, interface="asgi")

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        return None

    asyncio.run(traced(asgi_scope("http"), receive, send))
    kinds = [e.kind for e in recorder.events]
    violation = kinds.index(K.VIOLATION)
    assert kinds.index(K.REQUEST_START) < violation < kinds.index(K.ASGI_SEND)
    rules = [e.data["rule"] for e in recorder.events if e.kind == K.VIOLATION]
    assert rules == ["HTTP-001"]  # the body completed the response: nothing else is owed


def test_a_file_wrapper_response_is_not_a_short_body(tmp_path: object) -> None:
    """The server sends a wsgi.file_wrapper response itself: its Content-Length is not judged."""
    from pathlib import Path
    from wsgiref.util import FileWrapper

    path = Path(str(tmp_path)) / "static.txt"
    path.write_bytes(b"x" * 100)

    def app(environ: dict, start_response: object) -> object:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "100")])  # type: ignore[operator]
        return environ["wsgi.file_wrapper"](path.open("rb"), 8192)

    recorder = tracer.Recorder()
    traced = tracer.instrument(app, recorder=recorder, interface="wsgi")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.file_wrapper": FileWrapper}
    body = traced(environ, lambda status, headers, exc_info=None: None)
    assert isinstance(body, FileWrapper)
    assert b"".join(body) == b"x" * 100
    body.close()
    assert [e for e in recorder.events if e.kind == K.VIOLATION] == []

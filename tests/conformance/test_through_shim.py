"""The same breaking and passing apps, through ``tracer.instrument``: violations are events."""

from __future__ import annotations

import asyncio
import io
import threading
from typing import Any

import check_apps
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
from tracer.sourcepath import display_path


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


# -- where a violation judged after the app's call is located -------------------------------------


def _violations(app: Any) -> list[tuple[str, str | None]]:
    """(rule, location) of each violation of one request to ``app`` through the shim, served
    as a threaded server does: the response iterated and closed on a thread of its own."""
    recorder = tracer.Recorder()
    traced = tracer.instrument(app, recorder=recorder, interface="wsgi")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.input": io.BytesIO()}

    def serve() -> None:
        body = traced(environ, lambda status, headers, exc_info=None: None)
        try:
            for _chunk in body:
                pass
        finally:
            body.close()

    worker = threading.Thread(target=serve)
    worker.start()
    worker.join()
    events = recorder.recording().events
    return [(e.data["rule"], e.data.get("location")) for e in events if e.kind == K.VIOLATION]


def _at(function: Any, marker: str) -> str:
    """``file:line`` of ``function``'s line marked ``# marker``, as recordings name it."""
    file = display_path(function.__code__.co_filename)
    return f"{file}:{check_apps.line_of(function, marker)}"


def test_a_bad_chunk_of_a_generator_is_recorded_at_its_yield() -> None:
    """The app's frame is gone when its chunk is judged, but a generator is suspended at the
    yield that produced it: the recording names that line."""
    app = check_apps.wsgi_yields_str
    assert _violations(app) == [("WSGI-014", _at(app, "WSGI-014"))]


def test_a_chunk_from_yield_from_is_recorded_where_the_innermost_generator_yielded() -> None:
    """Through ``yield from`` the chunk comes from the delegate: its yield is the line."""

    def chunks() -> Any:
        yield b"ok"
        yield 42  # WSGI-015

    def app(environ: dict, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield from chunks()

    assert _violations(app) == [("WSGI-015", _at(chunks, "WSGI-015"))]


def test_body_before_start_response_is_recorded_at_the_yield() -> None:
    """WSGI-003 is a rule about a chunk too."""

    def app(environ: dict, start_response: Any) -> Any:
        yield b"early"  # WSGI-003
        start_response("200 OK", [("Content-Type", "text/plain")])

    assert _violations(app) == [("WSGI-003", _at(app, "WSGI-003"))]


def test_a_bad_chunk_of_a_list_has_no_location_in_the_recording() -> None:
    """A list returned has no line of its own: ``location`` is left out (``trace check``
    shows the app's definition line instead)."""
    assert _violations(check_apps.wsgi_str_body) == [("WSGI-014", None)]


@pytest.mark.parametrize(("declared", "rule"), [("2", "WSGI-019"), ("9", "WSGI-020")])
def test_a_wrong_content_length_is_recorded_at_the_start_response_that_declared_it(
    declared: str, rule: str
) -> None:
    """Judged when the request ends, located where the app declared the length."""

    def app(environ: dict, start_response: Any) -> list[bytes]:
        headers = [("Content-Type", "text/plain"), ("Content-Length", declared)]
        start_response("200 OK", headers)  # declared
        return [b"hello"]

    assert _violations(app) == [(rule, _at(app, "declared"))]


def test_a_content_length_declared_inside_a_generator_is_located_there() -> None:
    """A generator app calls start_response on the first next(): that line is the place."""

    def app(environ: dict, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "1")])  # here
        yield b"abc"

    assert _violations(app) == [("WSGI-019", _at(app, "here"))]

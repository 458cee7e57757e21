"""A WSGI app instrumented twice, for two recorders (an app instrumented at import, wrapped
again by a test): each recorder locates a violation judged after the app's call (a chunk, a
Content-Length judged at the end) at the app's line, as it does when its shim is the only one."""

from __future__ import annotations

import io
import threading
from typing import Any

import check_apps
import pytest

import tracer
from tracer import events as K
from tracer.sourcepath import display_path

Found = list[tuple[str, str | None]]


def _nested_violations(app: Any, depth: int = 2) -> list[Found]:
    """(rule, location) of each violation, per recorder from the outermost shim in, of one
    request to ``app`` instrumented ``depth`` times, served as a threaded server does."""
    recorders = [tracer.Recorder() for _ in range(depth)]
    traced = app
    for recorder in reversed(recorders):  # the first recorder's shim ends up outermost
        traced = tracer.instrument(traced, recorder=recorder, interface="wsgi")
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
    return [
        [(e.data["rule"], e.data.get("location")) for e in r.events if e.kind == K.VIOLATION]
        for r in recorders
    ]


def _at(function: Any, marker: str) -> str:
    """``file:line`` of ``function``'s line marked ``# marker``, as recordings name it."""
    file = display_path(function.__code__.co_filename)
    return f"{file}:{check_apps.line_of(function, marker)}"


@pytest.mark.parametrize("depth", [2, 3])
def test_a_bad_chunk_of_a_generator_is_located_at_its_yield_by_every_recorder(
    depth: int,
) -> None:
    """WSGI-014 is judged after next() returned: the outer shims iterate the inner shim's
    wrapper, and look through it to the app's generator, suspended at its yield."""
    app = check_apps.wsgi_yields_str
    expected = [("WSGI-014", _at(app, "WSGI-014"))]
    assert _nested_violations(app, depth) == [expected] * depth


def test_a_chunk_from_yield_from_is_located_in_the_delegate_by_both_recorders() -> None:
    """Through ``yield from`` behind the inner shim: the delegate's yield, for both."""

    def chunks() -> Any:
        yield b"ok"
        yield 42  # WSGI-015

    def app(environ: dict, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield from chunks()

    assert _nested_violations(app) == [[("WSGI-015", _at(chunks, "WSGI-015"))]] * 2


def test_body_before_start_response_is_located_at_the_yield_by_both_recorders() -> None:
    """WSGI-003 is about a chunk too: the outer recorder names the yield as the inner does."""

    def app(environ: dict, start_response: Any) -> Any:
        yield b"early"  # WSGI-003
        start_response("200 OK", [("Content-Type", "text/plain")])

    assert _nested_violations(app) == [[("WSGI-003", _at(app, "WSGI-003"))]] * 2


@pytest.mark.parametrize("depth", [2, 3])
def test_a_wrong_content_length_is_located_at_the_apps_start_response_by_every_recorder(
    depth: int,
) -> None:
    """WSGI-019 is judged at the end; the outer shims' start_response is called by the inner
    shim's, not by the app: the place is still the app's call that declared the length."""
    app = check_apps.wsgi_length_lies
    marker = "WSGI-019"
    expected = [("WSGI-019", _at(app, marker))]
    assert _nested_violations(app, depth) == [expected] * depth


def test_a_content_length_declared_in_a_generator_is_located_there_by_both_recorders() -> None:
    """A generator app calls start_response on the first next(), through both shims."""

    def app(environ: dict, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "9")])  # here
        yield b"abc"

    assert _nested_violations(app) == [[("WSGI-020", _at(app, "here"))]] * 2

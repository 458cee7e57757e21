"""WSGI-022 inside the app: a middleware whose response's close() forgets the inner app's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wsgi import ClosingIterator

from tracer import events as K
from tracer.conformance.driver import check_app
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)

WsgiApp = Callable[..., Any]


class InnerBody:
    """An inner app's response with a close() of its own (a file, a session to release)."""

    def __init__(self, closed: list[str]) -> None:
        self.closed = closed

    def __iter__(self) -> Iterator[bytes]:
        return iter([b"hello"])

    def close(self) -> None:
        self.closed.append("inner")


def inner_app(closed: list[str]) -> WsgiApp:
    def app(environ: dict[str, Any], start_response: Any) -> InnerBody:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return InnerBody(closed)

    return app


class Upper:
    """A middleware whose response's close() does not close the inner one."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> UpperBody:
        return UpperBody(self.app(environ, start_response))


class UpperBody:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.inner:
            yield chunk.upper()

    def close(self) -> None:
        pass  # forgets self.inner.close()


def upper_generator(app: WsgiApp) -> WsgiApp:
    """The same mistake as a generator: it iterates the inner response but never closes it."""

    def wrapped(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        for chunk in app(environ, start_response):
            yield chunk.upper()

    return wrapped


def closing_middleware(app: WsgiApp) -> WsgiApp:
    """The right way: the wrapper's close() closes the inner response."""

    def wrapped(environ: dict[str, Any], start_response: Any) -> ClosingIterator:
        inner = app(environ, start_response)
        return ClosingIterator((chunk.upper() for chunk in inner), [inner.close])

    return wrapped


# Where Upper calls the inner app: the line its findings name.
UPPER_CALL = f"test_closes.py:{Upper.__call__.__code__.co_firstlineno + 1}"


def _wsgi_022(app: WsgiApp) -> list[tuple[str, str | None, str]]:
    report = check_app(app, paths=["/"])
    return [(f.request, f.location, f.message) for f in report.findings if f.rule == "WSGI-022"]


def test_a_middleware_whose_close_forgets_the_inner_one_is_wsgi_022() -> None:
    """Each probe: WSGI-022 at the middleware's call of the inner app, naming what it left."""
    closed: list[str] = []
    found = _wsgi_022(Upper(inner_app(closed)))
    assert [request for request, _, _ in found] == ["GET /", "HEAD /", "POST /", "POST / (chunked)"]
    request, location, message = found[0]
    assert location is not None and location.endswith(UPPER_CALL)
    assert message == (
        "close() of the response iterable was not called: the InnerBody returned by "
        "inner_app.<locals>.app() was never closed: the close() of the middleware that called "
        "it must call its close()"
    )
    assert closed == []


def test_a_generator_middleware_that_never_closes_the_inner_one_is_wsgi_022() -> None:
    closed: list[str] = []
    found = _wsgi_022(upper_generator(inner_app(closed)))
    assert len(found) == 4 and closed == []


def test_a_middleware_that_closes_the_inner_one_is_clean() -> None:
    closed: list[str] = []
    report = check_app(closing_middleware(inner_app(closed)), paths=["/"])
    assert report.findings == [] and closed == ["inner"] * 4


def test_a_flask_app_behind_a_middleware_is_judged_once_per_mistake() -> None:
    """Flask's own response (a ClosingIterator) under a forgetful middleware: one finding per
    request, at the middleware (the iterables Flask's close() would have closed in turn are
    not findings of their own); behind correct middleware (werkzeug's ProxyFix and a
    ClosingIterator) nothing is found."""
    bad = Flask(__name__)
    bad.add_url_rule("/", "index", lambda: "hi")
    bad.wsgi_app = Upper(bad.wsgi_app)  # type: ignore[method-assign]
    found = _wsgi_022(bad)
    assert [request for request, _, _ in found] == ["GET /", "HEAD /", "POST /", "POST / (chunked)"]
    assert all(loc is not None and loc.endswith(UPPER_CALL) for _, loc, _ in found)
    assert "ClosingIterator returned by Flask.wsgi_app()" in found[0][2]

    good = Flask(__name__)
    good.add_url_rule("/", "index", lambda: "hi")
    good.wsgi_app = closing_middleware(ProxyFix(good.wsgi_app))  # type: ignore[method-assign]
    assert check_app(good, paths=["/"]).findings == []


def test_the_finding_is_in_the_recording() -> None:
    """The violation is recorded on the probe's request, so a saved check counts it too."""
    recorder = Recorder()
    check_app(Upper(inner_app([])), paths=["/"], recorder=recorder)
    recorder.drain()
    starts = {e.req for e in recorder.events if e.kind == K.REQUEST_START}
    violations = [e for e in recorder.events if e.kind == K.VIOLATION]
    assert [e.data["rule"] for e in violations] == ["WSGI-022"] * 4
    assert {e.req for e in violations} == starts

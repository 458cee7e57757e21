"""What every checker shares: never raising on garbage, reporting once, locating the caller."""

from __future__ import annotations

import itertools
import sys
from typing import Any

import pytest

from tracer.conformance import AsgiChecker, WsgiChecker
from tracer.conformance.base import caller_location
from tracer.sourcepath import display_path

WEIRD: list[Any] = [
    None,
    0,
    -1,
    True,
    "",
    "x",
    b"",
    b"\r\n",
    3.5,
    [],
    [1, 2],
    [(1, 2, 3)],
    [[b"a"]],
    [("a", "b")],
    {"a": 1},
    (b"a", b"b"),
    object(),
]
TYPES = [
    "http.response.start",
    "http.response.body",
    "http.response.trailers",
    "http.response.pathsend",
    "websocket.accept",
    "websocket.send",
    "websocket.close",
    "websocket.http.response.start",
    "websocket.http.response.body",
    "lifespan.startup.complete",
    "lifespan.startup.failed",
    "lifespan.shutdown.failed",
]
KEYS = [
    "status",
    "headers",
    "body",
    "more_body",
    "trailers",
    "more_trailers",
    "subprotocol",
    "code",
    "reason",
    "text",
    "bytes",
    "message",
    "path",
]


@pytest.mark.parametrize("scope_type", ["http", "websocket", "lifespan", "custom"])
def test_asgi_checkers_never_raise_on_garbage(scope_type: str) -> None:
    """Any value under any key of any message type is reported or ignored, never a crash."""
    found: list[str] = []
    for kind, key, value in itertools.product(TYPES, KEYS, WEIRD):
        checker = AsgiChecker(
            {"type": scope_type, "extensions": value}, lambda r, m, **d: found.append(r)
        )
        checker.receive(value)
        checker.send({"type": kind, key: value})
        checker.send(value)
        checker.finish(error=None)
    assert found  # garbage does get reported


def test_wsgi_checker_never_raises_on_garbage() -> None:
    """start_response, write and body items of any shape are reported, never a crash."""
    found: list[str] = []
    for status, headers, item in itertools.product(WEIRD + ["200 OK"], WEIRD, WEIRD):
        environ = {"CONTENT_LENGTH": status, "REQUEST_METHOD": item}
        checker = WsgiChecker(environ, lambda r, m, **d: found.append(r))  # type: ignore[arg-type]
        checker.start_response(status, headers, item)
        checker.write(item)
        checker.body_item(item)
        checker.input_read(10)
        checker.finish(close_called=False, error=None)
    assert found


def test_caller_location_skips_the_tracer_package() -> None:
    """The location is the first frame outside tracer/: here, this test."""
    location = caller_location(1)
    assert location == f"{display_path(__file__)}:{sys._getframe().f_lineno - 1}"

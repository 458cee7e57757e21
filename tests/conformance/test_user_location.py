"""A finding names the user's own line when it is on the stack, not the framework's wrapper
that forwarded the message: the same preference ``sched.step`` locations have."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from tracer.conformance.base import caller_location
from tracer.conformance.driver import check_app
from tracer.sourcepath import (
    LIBRARY,
    OURS,
    OWN_DIR,
    SITE_DIRS,
    STDLIB,
    USER,
    display_path,
    source_kind,
)

pytestmark = pytest.mark.timeout(60)

HERE = display_path(__file__)


def _line(marker: str) -> int:
    """The line of this file that holds ``marker`` in a comment."""
    with open(__file__, encoding="utf-8") as file:
        for number, text in enumerate(file, 1):
            if text.rstrip().endswith(f"# {marker}"):
                return number
    raise AssertionError(marker)


async def closes_badly(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.receive_text()
    await websocket.close(code=1006)  # bad close


async def raw_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": "not bytes"})  # str body


def _locations(app: Any, rule: str, **options: Any) -> set[str | None]:
    report = check_app(app, timeout=2.0, **options)
    found = {finding.location for finding in report.findings if finding.rule == rule}
    assert found, report.findings
    return found


def test_a_starlette_endpoint_s_close_is_located_at_the_endpoint() -> None:
    """``websocket.close(code=1006)`` in an endpoint: WS-004 at the endpoint's line, not at
    ``starlette/_exception_handler.py``, which awaits the endpoint."""
    app = Starlette(routes=[WebSocketRoute("/ws", closes_badly)])
    assert _locations(app, "WS-004") == {f"{HERE}:{_line('bad close')}"}


def test_an_app_inside_a_library_middleware_is_located_in_the_app() -> None:
    """A raw app wrapped in Starlette's GZipMiddleware, whose own ``send`` forwards the
    message: HTTP-014 at the app's line, not the middleware's."""
    app = GZipMiddleware(raw_app)
    assert _locations(app, "HTTP-014", paths=["/"]) == {f"{HERE}:{_line('str body')}"}


def test_the_source_kinds() -> None:
    """The user's file, an installed package, the standard library, the tracer itself."""
    import starlette

    import tracer.recorder

    assert source_kind(__file__) == USER
    assert source_kind(starlette.__file__) == LIBRARY
    assert source_kind(sys.modules["asyncio"].__file__ or "") == STDLIB
    assert source_kind("<frozen importlib._bootstrap>") == STDLIB
    assert source_kind(tracer.recorder.__file__) == OURS


def test_with_no_user_frame_inside_the_app_the_nearest_other_one_is_named() -> None:
    """Between the hook and the tracer's call of the app there is only a library's frame: it
    is named. What lies past the tracer's call (this test) did not make the call."""
    library = SITE_DIRS[0] + "some_framework/send.py"
    inner = compile("found = where(1)", library, "exec")
    outer = compile("exec(inner, namespace)", OWN_DIR + "shim/calls_the_app.py", "exec")
    namespace: dict[str, Any] = {"where": caller_location}
    exec(outer, {"inner": inner, "namespace": namespace})
    assert namespace["found"] == f"{display_path(library)}:1"

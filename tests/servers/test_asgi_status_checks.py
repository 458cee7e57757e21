"""An ``http.response.start`` whose status uvicorn cannot write is the app's mistake, recorded
as a 500 on the ``loop`` model, never a crash or a request without a status.

uvicorn raises ``KeyError`` into the app's ``send`` for a missing status and for one that is not
a code of 100 to 599 (its status-line table has no such key), then drops the connection;
hypercorn and granian answer 500. The model raises uvicorn's ``KeyError`` and answers 500, as it
does for headers uvicorn cannot write (``test_asgi_response_checks``); the recording's
``request.end`` says 500 and the checker's ``violation`` stays.
"""

from __future__ import annotations

from typing import Any

import pytest
from model_driver import by_kind, running, send_all

from tracer import events as K
from tracer.servers import Request
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(60)

_MISSING = object()

STATUSES: dict[str, Any] = {
    "/missing": _MISSING,
    "/none": None,
    "/str": "200",
    "/phrase": "200 OK",
    "/word": "abc",
    "/low": 99,
    "/high": 600,
}


class _App:
    """Starts a response with the status of its path; notes what ``send`` raised into it."""

    def __init__(self) -> None:
        self.raised: dict[str, str] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        start: dict[str, Any] = {"type": "http.response.start", "headers": []}
        if STATUSES[path] is not _MISSING:
            start["status"] = STATUSES[path]
        try:
            await send(start)
        except Exception as exc:
            self.raised[path] = type(exc).__name__
            raise
        await send({"type": "http.response.body", "body": b"ok"})


def test_a_status_uvicorn_cannot_write_is_a_recorded_500() -> None:
    """Each bad status: ``KeyError`` raised into the app, the client's 500, a ``request.end``
    with status 500, the app's error and the checker's violation in the recording, and the
    report's status table counting 500s (before, the requests had no status at all)."""
    app = _App()
    paths = list(STATUSES)
    with running("loop", app) as (model, recorder):
        responses = send_all(model, [Request(path=p) for p in paths], concurrency=1)
    events = recorder.events
    summary = summarize(events)
    assert summary["status"] == {"500": len(paths)}
    assert summary["errors"] == len(paths)
    assert [(r.status, r.bytes_out) for r in responses] == [(500, 0)] * len(paths)
    assert app.raised == dict.fromkeys(paths, "KeyError")
    for response in responses:
        [end, *_] = [e for e in by_kind(events, K.REQUEST_END) if e.req == response.req]
        assert (end.data["status"], end.data["error"]) == (500, "KeyError")
        assert any(e.req == response.req for e in by_kind(events, K.VIOLATION))


def test_a_good_status_is_sent_as_is() -> None:
    """100 to 599 as an int are taken."""
    from tracer.servers.scope import check_status

    assert [check_status({"status": s}) for s in (100, 200, 599)] == [100, 200, 599]
    with running("loop", _ok) as (model, recorder):
        [response] = send_all(model, [Request()], concurrency=1)
    assert (response.status, response.error) == (201, None)


async def _ok(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})

"""A response whose status line went out keeps its status when the client's timeout cuts its
body: the in-process models' own end of the request (the first one, which readers take) says
the status and the body bytes the client had, as a real server's ``client.response`` does."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from model_driver import running, send_all

from tracer import events as K
from tracer.servers import TIMEOUT, Request
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(60)

TIMEOUT_S = 0.5
"""The client's timeout: the apps wait for the test's word after their first chunk."""


def _first_end(events: list[K.Event], req: int) -> dict[str, Any]:
    ends = [e for e in events if e.kind == K.REQUEST_END and e.req == req]
    return min(ends, key=lambda e: (e.t, e.seq)).data


def _asgi_stream(release: threading.Event, *, start: bool) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return  # no lifespan: served without it
        if start:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"abc", "more_body": True})
        while not release.is_set():
            await asyncio.sleep(0.01)
        if not start:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"def"})

    return app


def _wsgi_stream(release: threading.Event, *, start: bool) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        if not start:
            release.wait(10)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return _body(release)

    def _body(release: threading.Event) -> Iterator[bytes]:
        yield b"abc"
        release.wait(10)
        yield b"def"

    return app


@pytest.mark.parametrize(
    ("model", "make"),
    [("loop", _asgi_stream), ("threads", _wsgi_stream), ("wsgi-on-loop", _wsgi_stream)],
)
def test_a_stream_cut_by_the_timeout_keeps_its_status(model: str, make: Any) -> None:
    """Headers and 3 body bytes went out, then the timeout: the model's end says 200 and 3
    bytes with error "timeout", and the summary counts a 200 that failed."""
    release = threading.Event()
    with running(model, make(release, start=True)) as (server, recorder):
        try:
            [response] = send_all(server, [Request()], concurrency=1, timeout=TIMEOUT_S)
        finally:
            release.set()
    assert (response.status, response.bytes_out, response.error) == (200, 3, TIMEOUT)
    end = _first_end(recorder.events, response.req)
    assert (end["status"], end["bytes_out"], end["error"]) == (200, 3, TIMEOUT)
    summary = summarize(recorder.events)
    assert (summary["status"], summary["errors"]) == ({"200": 1}, 1)


@pytest.mark.parametrize(
    ("model", "make"),
    [("loop", _asgi_stream), ("threads", _wsgi_stream), ("wsgi-on-loop", _wsgi_stream)],
)
def test_a_response_not_started_by_the_timeout_has_no_status(model: str, make: Any) -> None:
    """Nothing went out before the timeout: the model's end has no status and no bytes."""
    release = threading.Event()
    with running(model, make(release, start=False)) as (server, recorder):
        try:
            [response] = send_all(server, [Request()], concurrency=1, timeout=TIMEOUT_S)
        finally:
            release.set()
    assert (response.status, response.bytes_out, response.error) == (None, 0, TIMEOUT)
    end = _first_end(recorder.events, response.req)
    assert (end["status"], end["bytes_out"], end["error"]) == (None, 0, TIMEOUT)

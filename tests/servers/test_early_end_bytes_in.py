"""An end the in-process model records itself, before the shim's (its client timed out, the
server refused the response, the worker process died), counts the request body bytes the app
read, as the shim's end does: readers take the first end, so it must not claim the whole body
for an app that read part of it or none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from model_driver import running, send_all

from tracer import events as K
from tracer.servers import TIMEOUT, WORKER_EXITED, Request
from tracer.servers.scope import BODY_CHUNK

pytestmark = pytest.mark.timeout(60)

APP_MODULE = "early_end_bytes_in_app"

# Written to a file: the ``processes`` model's children import it. Each app reads what the
# request's X-Read says (bytes for WSGI, body messages for ASGI), then waits until the file
# X-Release names exists (the test makes it once its client has given up), at most 10 s.
APP_SOURCE = """
import asyncio
import os
import time


def wsgi(environ, start_response):
    environ["wsgi.input"].read(int(environ["HTTP_X_READ"]))
    path = environ["PATH_INFO"]
    if path == "/exit":
        os._exit(3)
    if path == "/bad-header":  # asgiref passes it on; the loop's send refuses it
        start_response("200 OK", [("X-Note", "a\\nb")])
        return [b"ok"]
    if path == "/bad-status":  # asgiref's start_response refuses it, into the app
        start_response(200, [])
    for _ in range(1000):
        if os.path.exists(environ["HTTP_X_RELEASE"]):
            break
        time.sleep(0.01)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


async def asgi(scope, receive, send):
    if scope["type"] != "http":
        return  # no lifespan: served without it
    headers = dict(scope["headers"])
    for _ in range(int(headers[b"x-read"])):
        await receive()
    if scope["path"] == "/refused":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-note", b"a\\nb")]})
    for _ in range(1000):
        if os.path.exists(headers[b"x-release"]):
            break
        await asyncio.sleep(0.01)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""

BODY = b"0123456789"
TIMEOUT_S = 1.0
"""The client's timeout: the apps read at once, then wait for the test's word, past it."""


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("early_end_bytes_in")
    (folder / f"{APP_MODULE}.py").write_text(APP_SOURCE)
    return folder


@pytest.fixture
def release(tmp_path: Path) -> Iterator[Path]:
    """The file whose existence lets the apps go on; made at the end at the latest."""
    flag = tmp_path / "release"
    yield flag
    flag.touch()


def _request(path: str, body: bytes, read: int, release: Path) -> Request:
    headers = (("X-Read", str(read)), ("X-Release", str(release)))
    return Request(method="POST", path=path, headers=headers, body=body)


def _first_ends(events: list[K.Event], reqs: list[int | None]) -> list[dict[str, object]]:
    ordered = sorted(events, key=lambda e: (e.t, e.seq))
    firsts = {}
    for event in ordered:
        if event.kind == K.REQUEST_END:
            firsts.setdefault(event.req, event.data)
    return [firsts[req] for req in reqs]


@pytest.mark.parametrize("model", ["threads", "processes", "wsgi-on-loop"])
def test_a_timed_out_wsgi_request_counts_what_the_app_read(
    model: str, app_dir: Path, release: Path
) -> None:
    """The app read 3 of 10 bytes, then its client timed out: the timeout's end says 3."""
    with running(model, app_spec=f"{APP_MODULE}:wsgi", app_dir=str(app_dir)) as (m, recorder):
        responses = send_all(m, [_request("/", BODY, 3, release)], concurrency=1, timeout=TIMEOUT_S)
        release.touch()
    assert [r.error for r in responses] == [TIMEOUT]
    [end] = _first_ends(recorder.events, [responses[0].req])
    assert (end["error"], end["bytes_in"]) == (TIMEOUT, 3)


def test_a_request_no_worker_took_read_nothing(app_dir: Path, release: Path) -> None:
    """One worker, two requests: the second times out in the queue, its app never ran."""
    requests = [_request("/", BODY, 3, release), _request("/", BODY, 3, release)]
    with running("threads", app_spec=f"{APP_MODULE}:wsgi", app_dir=str(app_dir), threads=1) as (
        m,
        recorder,
    ):
        responses = send_all(m, requests, concurrency=2, timeout=TIMEOUT_S)
        release.touch()
    assert [r.error for r in responses] == [TIMEOUT, TIMEOUT]
    ends = _first_ends(recorder.events, [r.req for r in responses])
    assert sorted(end["bytes_in"] for end in ends) == [0, 3]


@pytest.mark.parametrize(("chunks", "read"), [(0, 0), (1, BODY_CHUNK)])
def test_a_timed_out_asgi_request_counts_what_the_app_received(
    chunks: int, read: int, app_dir: Path, release: Path
) -> None:
    """A body of two messages: an app that took none, or the first, then timed out."""
    body = b"x" * (BODY_CHUNK + 10)
    with running("loop", app_spec=f"{APP_MODULE}:asgi", app_dir=str(app_dir)) as (m, recorder):
        responses = send_all(
            m, [_request("/", body, chunks, release)], concurrency=1, timeout=TIMEOUT_S
        )
        release.touch()
    assert [r.error for r in responses] == [TIMEOUT]
    [end] = _first_ends(recorder.events, [responses[0].req])
    assert (end["error"], end["bytes_in"]) == (TIMEOUT, read)


def test_a_refused_asgi_response_counts_what_the_app_received(app_dir: Path, release: Path) -> None:
    """The loop refuses the app's response start and answers 500: that end says the one body
    message the app took, as the shim's end does."""
    body = b"x" * (BODY_CHUNK + 10)
    release.touch()
    with running("loop", app_spec=f"{APP_MODULE}:asgi", app_dir=str(app_dir)) as (m, recorder):
        responses = send_all(m, [_request("/refused", body, 1, release)], concurrency=1)
    assert [r.status for r in responses] == [500]
    ordered = sorted(recorder.events, key=lambda e: (e.t, e.seq))
    ends = [e.data for e in ordered if e.kind == K.REQUEST_END and e.req == responses[0].req]
    assert [(end["status"], end["bytes_in"]) for end in ends] == [
        (500, BODY_CHUNK),
        (None, BODY_CHUNK),
    ]


def test_a_request_whose_worker_process_died_counts_what_the_app_read(
    app_dir: Path, release: Path
) -> None:
    """The app read 3 bytes and ended its worker process (``os._exit``): its one end says 3."""
    with running("processes", app_spec=f"{APP_MODULE}:wsgi", app_dir=str(app_dir)) as (
        m,
        recorder,
    ):
        responses = send_all(m, [_request("/exit", BODY, 3, release)], concurrency=1)
    assert [r.error for r in responses] == [WORKER_EXITED]
    [end] = _first_ends(recorder.events, [responses[0].req])
    assert (end["error"], end["bytes_in"]) == (WORKER_EXITED, 3)


@pytest.mark.parametrize("path", ["/bad-header", "/bad-status"])
def test_a_refused_response_on_wsgi_on_loop_counts_what_the_app_read(
    path: str, app_dir: Path, release: Path
) -> None:
    """The loop (a header) or asgiref (a status) refuses what the app gave, and the client
    gets a 500: that end, the first, says the 3 bytes the app read, as the shim's does."""
    with running("wsgi-on-loop", app_spec=f"{APP_MODULE}:wsgi", app_dir=str(app_dir)) as (
        m,
        recorder,
    ):
        responses = send_all(m, [_request(path, BODY, 3, release)], concurrency=1)
    assert [r.status for r in responses] == [500]
    ordered = sorted(recorder.events, key=lambda e: (e.t, e.seq))
    ends = [e.data for e in ordered if e.kind == K.REQUEST_END and e.req == responses[0].req]
    assert len(ends) == 2, ends
    assert [(end["status"], end["bytes_in"]) for end in ends][0] == (500, 3)
    assert ends[1]["bytes_in"] == 3

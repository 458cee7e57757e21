"""``--server processes``: a response whose status line went out keeps its status when the
client's timeout cuts its body, or when its worker process dies: the end the parent records
(the first one, which readers take) says the status and the body bytes the client had, as the
other in-process models' ends and a real server's ``client.response`` do."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from model_driver import running, send_all

from tracer import events as K
from tracer.servers import TIMEOUT, WORKER_EXITED, Request
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(90)

TIMEOUT_S = 0.5
"""The client's timeout: the apps wait for the test's release file after their first chunk."""

_STREAM = """\
import os, time

RELEASE = {release!r}


def _released():
    deadline = time.monotonic() + 10
    while not os.path.exists(RELEASE) and time.monotonic() < deadline:
        time.sleep(0.01)


def started(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return _body()


def _body():
    yield b"abc"
    _released()
    yield b"def"


def not_started(environ, start_response):
    _released()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"def"]


def dies(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return _dying()


def _dying():
    yield b"abc"
    os._exit(3)
"""


@pytest.fixture
def stream_app(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A module of raw WSGI apps in ``tmp_path`` (its folder, and the file that releases them);
    the parent's import of it is forgotten afterwards."""
    release = tmp_path / "release"
    (tmp_path / "cut_stream_apps.py").write_text(_STREAM.format(release=str(release)))
    path = list(sys.path)
    try:
        yield str(tmp_path), release
    finally:
        release.touch()
        sys.modules.pop("cut_stream_apps", None)
        sys.path[:] = path


def _first_end(events: list[K.Event], req: int) -> dict[str, Any]:
    ends = [e for e in events if e.kind == K.REQUEST_END and e.req == req]
    return min(ends, key=lambda e: (e.t, e.seq)).data


def _cut(folder: str, release: Path, app: str) -> tuple[Any, list[K.Event]]:
    """One request to ``app`` on one worker process, cut by the client's timeout."""
    spec = f"cut_stream_apps:{app}"
    with running("processes", app_spec=spec, app_dir=folder) as (server, recorder):
        try:
            [response] = send_all(server, [Request()], concurrency=1, timeout=TIMEOUT_S)
        finally:
            release.touch()
    return response, recorder.events


def test_a_stream_cut_by_the_timeout_keeps_its_status(stream_app: tuple[str, Path]) -> None:
    """Headers and 3 body bytes went out, then the timeout: the parent's end says 200 and 3
    bytes with error "timeout", the client's answer too, and the summary counts a 200 that
    failed."""
    response, events = _cut(*stream_app, "started")
    assert (response.status, response.bytes_out, response.error) == (200, 3, TIMEOUT)
    end = _first_end(events, response.req)
    assert (end["status"], end["bytes_out"], end["error"]) == (200, 3, TIMEOUT)
    summary = summarize(events)
    assert (summary["status"], summary["errors"]) == ({"200": 1}, 1)


def test_a_response_not_started_by_the_timeout_has_no_status(
    stream_app: tuple[str, Path],
) -> None:
    """Nothing went out before the timeout: the parent's end has no status and no bytes."""
    response, events = _cut(*stream_app, "not_started")
    assert (response.status, response.bytes_out, response.error) == (None, 0, TIMEOUT)
    end = _first_end(events, response.req)
    assert (end["status"], end["bytes_out"], end["error"]) == (None, 0, TIMEOUT)


def test_a_worker_dying_mid_stream_keeps_the_status(stream_app: tuple[str, Path]) -> None:
    """The app's process exits after its first chunk went out: the one end, the parent's,
    says 200 and 3 bytes with error "worker exited"."""
    folder, _ = stream_app
    with running("processes", app_spec="cut_stream_apps:dies", app_dir=folder) as (
        server,
        recorder,
    ):
        [response] = send_all(server, [Request()], concurrency=1, timeout=30)
    assert (response.status, response.bytes_out, response.error) == (200, 3, WORKER_EXITED)
    ends = [e.data for e in recorder.events if e.kind == K.REQUEST_END]
    assert [(e["status"], e["bytes_out"], e["error"]) for e in ends] == [(200, 3, WORKER_EXITED)]

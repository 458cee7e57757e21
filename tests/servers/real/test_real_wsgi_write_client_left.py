"""A WSGI app that sends its response with ``write()`` (from ``start_response``), on real
servers: when the client stops reading on purpose (``--read-bytes``), the server's ``write``
raises (waitress's ``ClientDisconnected``, gunicorn's ``BrokenPipeError``) and the app passes
it on. That is the client's choice, no app error, as for a body the server stops iterating:
no ``error`` event, the end saying what the server raised and that the response was cut
short. A client that gives up (``--timeout``) still makes it a failure, and a ``write`` the
server refuses for the data (a ``str``) is still the app's error."""

from __future__ import annotations

from pathlib import Path

import pytest
from real_helpers import Run, run_real

from tracer import events as K
from tracer.client import ClientConfig
from tracer.digest import Digest
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(120)

REQUESTS = 2

_APPS = """
import time


def writes(environ, start_response):
    # 200 writes of 1,000 bytes, 20 ms apart: 4 s at least, whatever the client reads.
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    for _ in range(200):
        write(b"x" * 1000)
        time.sleep(0.02)
    return []


def writes_text(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"x" * 1000)
    write("not bytes")  # the server refuses it
    return []
"""

GONE = {"waitress": "ClientDisconnected", "gunicorn": "BrokenPipeError"}
"""What each server's ``write`` raises once its client has gone."""


def _run(tmp_path: Path, server: str, app: str, load: ClientConfig) -> Run:
    pytest.importorskip(server)
    (tmp_path / "writers.py").write_text(_APPS)
    return run_real(server, f"writers:{app}", load, app_dir=str(tmp_path))


@pytest.mark.parametrize("server", ["waitress", "gunicorn"])
def test_a_written_response_the_client_stopped_reading_is_no_error(
    tmp_path: Path, server: str
) -> None:
    load = ClientConfig(concurrency=1, requests=REQUESTS, read_bytes=3000, timeout=10)
    run = _run(tmp_path, server, "writes", load)
    responses = [e.data for e in run.kinds(K.CLIENT_RESPONSE)]
    assert [data.get("client_closed") for data in responses] == ["read-bytes"] * REQUESTS
    refused = [e.data for e in run.kinds(K.WSGI_WRITE) if "raised" in e.data]
    assert [data["raised"] for data in refused] == [GONE[server]] * REQUESTS
    assert run.kinds(K.ERROR) == []
    ends = [e.data for e in run.kinds(K.REQUEST_END)]
    assert [(end["status"], end["error"], end.get("cut_short")) for end in ends] == [
        (200, GONE[server], True)
    ] * REQUESTS
    summary = summarize(run.events)
    assert (summary["errors"], summary["client_closed"]) == (0, REQUESTS)
    digest = Digest()
    digest.feed(run.events)
    assert digest.summary()["errors"] == 0 and digest.details().errors == {}


def test_a_written_response_the_client_gave_up_on_is_still_a_failure(tmp_path: Path) -> None:
    """--timeout 0.3 s on the 4 s response: the client left, not on purpose; the server's
    ``write`` raised as when it does, and each request is counted as failed."""
    load = ClientConfig(concurrency=1, requests=REQUESTS, timeout=0.3)
    run = _run(tmp_path, "waitress", "writes", load)
    responses = [e.data for e in run.kinds(K.CLIENT_RESPONSE)]
    assert [data.get("error") for data in responses] == ["TimeoutError"] * REQUESTS
    assert not any(data.get("client_closed") for data in responses)
    server_ends = [e.data for e in run.kinds(K.REQUEST_END) if e.data.get("status") == 200]
    assert [(end["error"], end.get("cut_short")) for end in server_ends] == [
        ("ClientDisconnected", True)
    ] * REQUESTS
    assert summarize(run.events)["errors"] == REQUESTS
    digest = Digest()
    digest.feed(run.events)
    assert digest.summary()["errors"] == REQUESTS


def test_a_write_the_server_refuses_for_its_data_is_the_apps_error(tmp_path: Path) -> None:
    """``write("not bytes")``: waitress raises ``TypeError``, which is the app's error, with
    its ``error`` event, whatever the client then sees."""
    load = ClientConfig(concurrency=1, requests=REQUESTS, timeout=10)
    run = _run(tmp_path, "waitress", "writes_text", load)
    errors = [e.data for e in run.kinds(K.ERROR)]
    assert [(data["type"], str(data["where"]).rsplit("/", 1)[-1]) for data in errors] == [
        ("TypeError", "writers.py:17")
    ] * REQUESTS
    assert [e.data["error"] for e in run.kinds(K.REQUEST_END)] == ["TypeError"] * REQUESTS
    assert summarize(run.events)["errors"] == REQUESTS

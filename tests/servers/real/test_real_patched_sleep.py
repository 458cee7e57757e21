"""An app that replaces ``time.sleep`` at import: the tool's own waits (the real-server
harness's, the bootstrap's in the server's processes, an in-process model's stop) are not
the app's, so the run goes as for any app."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from cli_helpers import app_file, trace_process

from tracer import events as K
from tracer.servers.real.harness import ServerProcess, free_port

pytestmark = pytest.mark.timeout(90)

_NO_SLEEP = """
import time

def _no_sleep(seconds):
    raise RuntimeError("time.sleep is disabled by the app")

time.sleep = _no_sleep
"""

ASGI = (
    _NO_SLEEP
    + """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""
)

WSGI = (
    _NO_SLEEP
    + """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""
)

WSGI_HOLDING = (
    _NO_SLEEP
    + """
import threading

def app(environ, start_response):
    threading.Event().wait(1.0)  # still running when the run stops: the stop waits for it
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""
)


def _events(record: Path, kind: str) -> list[dict[str, object]]:
    lines = record.read_text().splitlines()[1:]
    return [e for e in map(json.loads, lines) if e["kind"] == kind]


def _statuses(record: Path) -> list[object]:
    return [e["data"]["status"] for e in _events(record, K.CLIENT_RESPONSE)]  # type: ignore[index]


@pytest.mark.parametrize(
    ("server", "source"), [("uvicorn", ASGI), ("gunicorn", WSGI)], ids=["uvicorn", "gunicorn"]
)
def test_a_real_server_runs_an_app_that_disabled_time_sleep(
    tmp_path: Path, server: str, source: str
) -> None:
    """The app's ``time.sleep`` raises (in ``trace``, which imports the app to learn its
    interface, and in the server's processes): the server starts, serves every request and
    stops; exit 0, no traceback, and the app's error is nowhere in the server's output."""
    pytest.importorskip(server)
    spec = app_file(tmp_path, "no_sleep", source)
    record = tmp_path / "run.jsonl"
    code, _, err = trace_process(
        tmp_path, "run", spec, "--server", server, "--headless",
        "-c", "2", "-n", "4", "--timeout", "10s", "--record", str(record),
    )  # fmt: skip
    assert code == 0, err
    assert "Traceback" not in err and "disabled" not in err
    assert _statuses(record) == [200] * 4
    log = tmp_path / "run.server.log"
    assert not log.exists() or "disabled" not in log.read_text()


def test_an_in_process_model_stops_for_an_app_that_disabled_time_sleep(tmp_path: Path) -> None:
    """``wsgi-on-loop`` waits at its stop for the request its thread still runs (the client
    timed out first): that wait is the tool's, not the app's raising ``time.sleep``, and the
    app's own end of the request is recorded after the client's timeout."""
    spec = app_file(tmp_path, "no_sleep_holding", WSGI_HOLDING)
    record = tmp_path / "run.jsonl"
    code, _, err = trace_process(
        tmp_path, "run", spec, "--server", "wsgi-on-loop", "--headless",
        "-c", "1", "-n", "1", "--timeout", "0.2s", "--record", str(record),
    )  # fmt: skip
    assert code == 0, err
    assert "Traceback" not in err and "disabled" not in err
    ends = [(e["data"]["status"], e["data"]["error"]) for e in _events(record, K.REQUEST_END)]  # type: ignore[index]
    assert ends == [(None, "timeout"), (200, None)]


def test_the_harness_waits_with_the_sleep_it_was_imported_with(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``ServerProcess`` starts, waits for and stops a child while ``time.sleep`` raises (as
    an app imported in this process may leave it): none of its waits calls it."""

    def no_sleep(seconds: float) -> None:
        raise AssertionError("time.sleep was called")

    port = free_port()
    serve = (
        "import socket, sys, time; s = socket.socket(); "
        f"s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', {port})); "
        "s.listen(); time.sleep(60)"
    )
    server = ServerProcess("child", [sys.executable, "-c", serve], port=port)
    monkeypatch.setattr("time.sleep", no_sleep)
    try:
        server.start(timeout=20.0)
        assert server.exit_within(0.05) is None  # still serving: a timed wait that timed out
        server.stop(timeout=5.0)
    finally:
        monkeypatch.undo()
        server.close()
    assert server.killed is None  # SIGTERM ended it, within the bound

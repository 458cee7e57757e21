"""``trace check`` of apps that change what the whole process shares: the event-loop policy,
the working directory, the standard streams and descriptors 1 and 2, threads that never end.

Each test runs the ``trace`` command line in a process of its own (what the app does is the
process's), bounded: a check that hangs is killed by its process group's id and fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import DESCRIPTORS_CLOSED, app_file, trace_process

from tracer.recording import load

pytestmark = pytest.mark.timeout(120)


ASGI_OK = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""


def test_an_event_loop_policy_set_at_import_is_not_the_checks(tmp_path: Path) -> None:
    """An ASGI app that sets at import a policy whose ``new_event_loop`` raises: the check's
    loop is Python's default class all the same (it was a traceback of the tool, exit 1)."""
    app = app_file(
        tmp_path,
        "policy",
        """
import asyncio

class NoLoops(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self):
        raise RuntimeError("no loops for you")

asyncio.set_event_loop_policy(NoLoops())
"""
        + ASGI_OK,
    )
    code, out, err = trace_process(tmp_path, "check", app, "--timeout", "2")
    assert code == 0, err
    assert "Traceback" not in err
    assert out.splitlines()[-1] == "policy:app (asgi): no violations in 4 requests"


def test_relative_record_and_output_are_where_trace_started(tmp_path: Path) -> None:
    """``--record chk.jsonl -o report.txt`` of an app that ``os.chdir``s in a request: both
    files are in the directory trace started in, not wherever the app went."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    app = app_file(
        tmp_path,
        "wanders",
        f"""
import os

def app(environ, start_response):
    os.chdir({str(elsewhere)!r})
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
""",
    )
    code, out, err = trace_process(
        tmp_path, "check", app, "--record", "chk.jsonl", "-o", "report.txt"
    )
    assert code == 0, err
    assert sorted(path.name for path in elsewhere.iterdir()) == []
    report = (tmp_path / "report.txt").read_text(encoding="utf-8")
    assert report.splitlines()[-1] == "wanders:app (wsgi): no violations in 4 requests"
    assert load(str(tmp_path / "chk.jsonl")).header["app"] == "wanders:app"


def test_an_error_line_reaches_stderr_after_the_app_closed_it(tmp_path: Path) -> None:
    """The app closes descriptors 1 and 2 in a request, then ``-o`` cannot be written: the
    error is still one line on stderr and exit 2 (it was exit 1 and nothing said)."""
    app = app_file(tmp_path, "closes", DESCRIPTORS_CLOSED)
    (tmp_path / "a-file").write_text("")
    missing = tmp_path / "a-file" / "report.txt"  # under a file: no folder can be made there
    code, out, err = trace_process(tmp_path, "check", app, "-o", str(missing))
    assert (code, out) == (2, "")
    assert err == f'trace: error: Cannot write "{missing}": Not a directory.\n'


def test_a_thread_the_app_never_ends_does_not_keep_the_check_running(tmp_path: Path) -> None:
    """An app that starts a non-daemon thread that never ends: the report, then one line that
    the thread was left running, and the check's exit code (Python's exit waited for ever)."""
    app = app_file(
        tmp_path,
        "forever",
        """
import threading, time

_started = []

def _for_ever():
    while True:
        time.sleep(0.05)

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    if not _started:
        _started.append(threading.Thread(target=_for_ever, name="app-poller", daemon=False))
        _started[0].start()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
""",
    )
    code, out, err = trace_process(tmp_path, "check", app, "--timeout", "2")
    assert code == 0, err
    assert out.splitlines()[-1] == "forever:app (asgi): no violations in 4 requests"
    assert err.splitlines() == [
        "trace: left 1 app thread running (app-poller); exiting without waiting for them."
    ]

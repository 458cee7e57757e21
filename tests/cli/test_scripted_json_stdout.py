"""``trace run --json > out.json`` in a script: what the app writes to standard output after
the run (its exit handlers, a thread it left running) goes to standard error, as what it
prints during the run does: the JSON is alone on stdout and parses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.cli_helpers import app_file, trace_process

pytestmark = pytest.mark.timeout(60)

AT_EXIT = """
import atexit
import os

atexit.register(lambda: print("print at exit"))
atexit.register(lambda: os.write(1, b"os.write at exit\\n"))


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


def test_the_apps_exit_handlers_do_not_write_into_the_json(tmp_path: Path) -> None:
    spec = app_file(tmp_path, "exit_printer", AT_EXIT)
    code, out, err = trace_process(
        tmp_path, "run", spec, "-n", "3", "-c", "1", "--json", "--record", "run.jsonl"
    )
    assert code == 0, err
    summary = json.loads(out)  # the whole of stdout is the JSON
    assert summary["requests"] == 3
    assert summary["status"] == {"200": 3}
    # Python runs exit handlers last in, first out.
    assert err.splitlines()[-2:] == ["os.write at exit", "print at exit"]


THREAD = """
import os
import threading
import time

started = threading.Event()


def chatter():
    started.set()
    while True:
        print("still here", flush=True)
        os.write(1, b"and here\\n")
        time.sleep(0.01)


def app(environ, start_response):
    if not started.is_set():
        threading.Thread(target=chatter, name="chatter", daemon=False).start()
        started.wait()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


def test_a_thread_the_app_left_printing_does_not_write_into_the_json(tmp_path: Path) -> None:
    spec = app_file(tmp_path, "chatty", THREAD)
    code, out, err = trace_process(
        tmp_path, "run", spec, "-n", "3", "-c", "1", "--json", "--record", "run.jsonl"
    )
    assert code == 0, err
    assert json.loads(out)["requests"] == 3
    # Not a daemon: trace gives it a second to end, then leaves it printing.
    assert "trace: left 1 app thread running (chatter)" in err
    after_the_run = err.split("recording: run.jsonl")[1]
    assert "still here" in after_the_run
    assert "and here" in after_the_run

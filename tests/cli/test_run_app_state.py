"""``trace run`` of apps that change what the whole process shares: asyncio's functions, the
event-loop policy, the standard streams and descriptors 1 and 2, threads that never end.

Each test runs the ``trace`` command line in a process of its own (what the app does is the
process's), bounded: a run that hangs is killed by its process group's id and the test fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import DESCRIPTORS_CLOSED, app_file, trace_process

from tracer.recording import load
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(120)


def _requests(path: Path) -> int:
    """The requests the recording at ``path`` holds, as its summary counts them."""
    return int(summarize(load(str(path)))["requests"])


WSGI_OK = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""

ASGI_OK = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""

# What test helpers do to make sleeps instant: a sleep that returns at once, never suspending.
FAKE_SLEEP = """
import asyncio

async def _instant(delay, result=None):
    return result

asyncio.sleep = _instant
"""

# On a WSGI app every asyncio function the load uses is the tool's own: none may be the app's.
BROKEN_ASYNCIO = (
    FAKE_SLEEP
    + """
def _refused(*args, **kwargs):
    raise RuntimeError("the app took this asyncio function away")

for _name in ("wait", "wait_for", "create_task", "ensure_future", "gather", "Event", "run",
              "new_event_loop", "get_event_loop", "Runner"):
    setattr(asyncio, _name, _refused)
"""
)


@pytest.mark.parametrize(
    "source,load",
    [
        (FAKE_SLEEP + ASGI_OK, ["-n", "6"]),
        (FAKE_SLEEP + ASGI_OK, ["-z", "0.5s"]),
        (BROKEN_ASYNCIO + WSGI_OK, ["-n", "6"]),
        (BROKEN_ASYNCIO + WSGI_OK, ["--rate", "50", "-n", "6"]),
    ],
    ids=["asgi-n", "asgi-z", "wsgi-n", "wsgi-rate"],
)
def test_an_app_that_replaces_asyncio_sleep_does_not_hold_the_load(
    tmp_path: Path, source: str, load: list[str]
) -> None:
    """``asyncio.sleep = instant`` at import used to make the load's watcher spin for ever
    (no output, no end); the load's waits are bound before the app is imported. On a WSGI app
    the rest of asyncio may go too (wait, create_task, Event, run...): the run is the same."""
    app = app_file(tmp_path, "fake_sleep", source)
    clients = [] if "--rate" in load else ["-c", "2"]  # -c is refused beside --rate
    code, out, err = trace_process(
        tmp_path, "run", app, "--json", *clients, *load, "--timeout", "3s"
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["errors"] == 0
    assert summary["requests"] == (6 if "-n" in load else summary["requests"]) > 0


POLICY_AT_IMPORT = """
import asyncio

class NoLoops(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self):
        raise RuntimeError("no loops for you")

asyncio.set_event_loop_policy(NoLoops())
"""


def test_an_event_loop_policy_set_at_import_is_not_the_loads(tmp_path: Path) -> None:
    """An app that sets at import a policy whose ``new_event_loop`` raises: the load's loop is
    Python's default class all the same (it was a traceback of the tool, exit 1, and no
    recording); the run is served and recorded as any other."""
    app = app_file(tmp_path, "policy", POLICY_AT_IMPORT + WSGI_OK)
    code, out, err = trace_process(
        tmp_path, "run", app, "--headless", "-c", "2", "-n", "6", "--record", "run.jsonl"
    )
    assert code == 0, err
    assert "Traceback" not in err
    assert out.splitlines()[-1] == "recording: run.jsonl"
    assert _requests(tmp_path / "run.jsonl") == 6


@pytest.mark.parametrize(("model", "body"), [("loop", "ASGI"), ("wsgi-on-loop", "WSGI")])
def test_a_policy_set_at_import_is_not_the_server_models_either(
    tmp_path: Path, model: str, body: str
) -> None:
    """The loop of --server loop and wsgi-on-loop is asyncio's own too (it was the app's
    policy's, whose new_event_loop raised: a traceback of the tool, exit 1)."""
    app = app_file(
        tmp_path, f"policy_{body}", POLICY_AT_IMPORT + (ASGI_OK if body == "ASGI" else WSGI_OK)
    )
    argv = ["run", app, "--server", model, "--headless", "-n", "4", "--record", "run.jsonl"]
    code, _, err = trace_process(tmp_path, *argv)
    assert code == 0 and "Traceback" not in err, err
    assert _requests(tmp_path / "run.jsonl") == 4


STREAMS_REPLACED = """
import io, sys

def app(environ, start_response):
    sys.stdout = io.StringIO()
    sys.stderr = None
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""

ASGI_DESCRIPTORS_CLOSED = """
import os

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    for fd in (1, 2):
        try:
            os.close(fd)
        except OSError:
            pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""


@pytest.mark.parametrize(
    "source",
    [STREAMS_REPLACED, DESCRIPTORS_CLOSED, ASGI_DESCRIPTORS_CLOSED],
    ids=["wsgi-streams-replaced", "wsgi-descriptors-closed", "asgi-descriptors-closed"],
)
def test_the_report_reaches_the_streams_trace_started_with(tmp_path: Path, source: str) -> None:
    """The app replaces ``sys.stdout``/``sys.stderr`` or closes descriptors 1 and 2 in a
    request: the progress bar, the report and the recording's path still come, where they
    went when trace started (they were lost, exit 0 or 1 with nothing said)."""
    app = app_file(tmp_path, "streams", source)
    code, out, err = trace_process(
        tmp_path, "run", app, "--headless", "-c", "2", "-n", "6", "--record", "run.jsonl"
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[-1] == "recording: run.jsonl"
    assert any(line.strip().startswith("requests") and "6 (6 completed)" in line for line in lines)
    assert err.startswith("trace run ") and "6/6" in err
    assert _requests(tmp_path / "run.jsonl") == 6


def test_json_and_its_recording_line_survive_closed_descriptors(tmp_path: Path) -> None:
    """``--json``: the summary alone on stdout, the recording's path on stderr, as always."""
    app = app_file(tmp_path, "closed", DESCRIPTORS_CLOSED)
    code, out, err = trace_process(
        tmp_path, "run", app, "--json", "-c", "2", "-n", "6", "--record", "run.jsonl"
    )
    assert code == 0, err
    assert json.loads(out)["requests"] == 6
    assert err.splitlines()[-1] == "recording: run.jsonl"


THREAD_FOR_EVER = """
import threading, time

_started = []

def _for_ever():
    while True:
        time.sleep(0.05)

def app(environ, start_response):
    if not _started:
        _started.append(threading.Thread(target=_for_ever, name="app-poller", daemon=False))
        _started[0].start()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


def test_a_thread_the_app_never_ends_does_not_keep_trace_running(tmp_path: Path) -> None:
    """A non-daemon thread the app started and never ends: Python's exit waited for it, so
    ``trace run`` printed its report and never exited. Now, all written and closed, it says
    in one line that it left the thread running and exits with its code."""
    app = app_file(tmp_path, "forever", THREAD_FOR_EVER)
    code, out, err = trace_process(
        tmp_path, "run", app, "--headless", "-c", "2", "-n", "6", "--record", "run.jsonl"
    )
    assert code == 0, err
    assert out.splitlines()[-1] == "recording: run.jsonl"
    assert err.splitlines()[-1] == (
        "trace: left 1 app thread running (app-poller); exiting without waiting for them."
    )
    assert _requests(tmp_path / "run.jsonl") == 6


THREAD_ENDING_SOON = """
import threading, time

def _last_work(path):
    time.sleep(0.1)
    with open(path, "w") as file:
        file.write("done")

def app(environ, start_response):
    threading.Thread(target=_last_work, args=(environ["PATH_INFO"][1:],), daemon=False).start()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


def test_a_thread_that_ends_by_itself_is_waited_for(tmp_path: Path) -> None:
    """An app thread finishing its last work as the run ends is waited for, as Python's exit
    waits (within ``tracer.cli.THREADS_GRACE``): its work is done, and nothing is said."""
    app = app_file(tmp_path, "soon", THREAD_ENDING_SOON)
    code, out, err = trace_process(
        tmp_path, "run", app, "--headless", "-n", "1", "--path", "/done.txt"
    )
    assert code == 0, err
    assert "app thread" not in err
    assert (tmp_path / "done.txt").read_text(encoding="utf-8") == "done"


def test_no_word_about_threads_when_the_app_left_none(tmp_path: Path) -> None:
    """An app that leaves no thread behind: the run ends as it always did, nothing more said."""
    app = app_file(tmp_path, "plain", WSGI_OK)
    code, out, err = trace_process(tmp_path, "run", app, "--headless", "-c", "2", "-n", "6")
    assert code == 0, err
    assert "app thread" not in err
    assert out.splitlines()[-1].startswith("recording: ")

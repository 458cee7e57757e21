"""A Ctrl-C while ``trace run`` closes its recording (a large one takes a while to flush, and
a user who stopped the load may press it again): the close goes on, nothing recorded is lost,
and the run ends as it would have, with its report and the line naming the recording.

It met Python's own handler there: the ``KeyboardInterrupt`` cut the last drain short (its
events never reached the file, which was left unfinished), and the report and the recording's
path were never said. A ``sitecustomize`` in the child ``trace run`` sends SIGINT at that exact
point: as the recorder, being closed, drains its last events.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import tracer
from tracer import events as K

pytestmark = pytest.mark.timeout(60)

SITECUSTOMIZE = '''
import importlib.abc, importlib.util, os, signal, sys, threading


class _Finder(importlib.abc.MetaPathFinder):
    """Sends SIGINT to this process as a recorder being closed drains its last events."""

    def find_spec(self, name, path, target=None):
        if name != "tracer.recorder":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        real = spec.loader.exec_module

        def exec_module(module):
            real(module)
            # close() drains with drain_unread (nobody reads its batch): that is the last drain.
            drain = module.Recorder.drain_unread

            def draining(self):
                main = threading.current_thread() is threading.main_thread()
                if self._closed and main and not os.path.exists(os.environ["SENT_MARK"]):
                    open(os.environ["SENT_MARK"], "w").close()
                    os.kill(os.getpid(), signal.SIGINT)
                return drain(self)

            module.Recorder.drain_unread = draining

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _Finder())
'''

REQUESTS = 200


def test_ctrl_c_while_the_recording_closes_loses_nothing_and_names_it(tmp_path: Path) -> None:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE)
    pythonpath = os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    sent = tmp_path / "sent"
    record = tmp_path / "run.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "run", "sample_apps.hello:asgi_app",
         "-n", str(REQUESTS), "--headless", "--record", str(record)],
        env={**os.environ, "PYTHONPATH": pythonpath, "SENT_MARK": str(sent), "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=45,
    )  # fmt: skip
    assert sent.exists()  # the SIGINT came while the recording was closed
    assert done.returncode == 0, done.stderr
    assert "interrupted" not in done.stderr and "Traceback" not in done.stderr
    assert "status codes" in done.stdout  # the report
    assert done.stdout.splitlines()[-1] == f"recording: {record}"
    recording = tracer.load(str(record))
    assert not recording.unfinished
    ends = [e for e in recording.events if e.kind == K.REQUEST_END and e.data.get("status") == 200]
    assert len(ends) == REQUESTS


INSISTING_APP = """
import os, signal, time


def app(environ, start_response):
    # The user stops the load (Ctrl-C), then insists while this request still runs.
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.3)
    os.kill(os.getpid(), signal.SIGINT)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


def test_a_second_ctrl_c_during_the_load_still_names_the_recording(tmp_path: Path) -> None:
    """A second Ctrl-C interrupts (exit 130, no report), and the recording it leaves, closed
    and whole, is named before ``trace: interrupted``: it was kept without a word."""
    (tmp_path / "insisting_app.py").write_text(INSISTING_APP)
    record = tmp_path / "run.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "run", "insisting_app:app", "--server", "threads",
         "-n", "1", "--headless", "--record", str(record)],
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=45,
    )  # fmt: skip
    assert done.returncode == 130, done.stderr
    assert done.stderr.rstrip().endswith("trace: interrupted")
    assert done.stdout.splitlines() == [f"recording: {record}"]
    assert not tracer.load(str(record)).unfinished

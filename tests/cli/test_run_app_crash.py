"""An app that crashes ``trace run``'s own process (a segmentation fault, in process): the
recording is still one to load, and stderr says where the app crashed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tracer.recording import load

pytestmark = pytest.mark.timeout(60)

APP = """import ctypes


def app(environ, start_response):
    ctypes.string_at(0)  # the crash: a read of address 0
    start_response("200 OK", [])
    return [b"never"]
"""


@pytest.mark.parametrize("model", ["threads", "wsgi-on-loop"])
def test_a_segfault_in_the_first_request_leaves_a_loadable_recording(
    tmp_path: Path, model: str
) -> None:
    (tmp_path / "crashing_app.py").write_text(APP)
    record = tmp_path / "run.jsonl"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONFAULTHANDLER"}
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "run", "crashing_app:app", "--server", model]
        + ["--headless", "-n", "3", "-c", "1", "--record", str(record)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=45,
    )
    assert done.returncode == -signal.SIGSEGV, done.stderr
    # Before the first drain: what was recorded in the process is lost, but the file is a
    # recording, with the header of the run as it began (the server model named).
    recording = load(str(record))
    assert recording.header["server"]["model"] == model
    assert recording.header["app"] == "crashing_app:app"
    assert "Fatal Python error: Segmentation fault" in done.stderr
    assert 'crashing_app.py", line 5 in app' in done.stderr

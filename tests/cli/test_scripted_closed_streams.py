"""``trace run --json`` started by a script with standard output or error closed (``>&-``,
``2>&-``): what goes to the closed stream is discarded, as the shell asked, and the rest
works: no traceback, exit 0, the JSON on stdout when it is open."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)


def _trace_closing(cwd: Path, closed: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """``python -m tracer ARGV`` with ``closed`` (``>&-`` or ``2>&-``) as a shell gives it."""
    return subprocess.run(
        ["sh", "-c", f'exec "$0" -m tracer "$@" {closed}', sys.executable, *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=45,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def test_json_with_standard_error_closed(tmp_path: Path) -> None:
    done = _trace_closing(
        tmp_path,
        "2>&-",
        *("run", "sample_apps.hello:asgi_app", "-n", "5", "-c", "1", "--json"),
        *("--record", "run.jsonl"),
    )
    assert done.returncode == 0
    assert json.loads(done.stdout)["status"] == {"200": 5}
    assert (tmp_path / "run.jsonl").exists()


def test_json_with_standard_output_closed(tmp_path: Path) -> None:
    done = _trace_closing(
        tmp_path,
        ">&-",
        *("run", "sample_apps.hello:asgi_app", "-n", "5", "-c", "1", "--json"),
        *("--record", "run.jsonl"),
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == "recording: run.jsonl"


PRINTS = """
import os
import subprocess


def app(environ, start_response):
    print("printed by the app", 6 * 7)
    subprocess.run(["sh", "-c", "echo written by a child $((6 * 7)) >&2"], check=True)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


@pytest.mark.parametrize("closed", [">&-", "2>&-"])
def test_the_recording_never_takes_a_closed_descriptor(tmp_path: Path, closed: str) -> None:
    # A file opened while descriptor 1 or 2 is closed would take its number, and what the app
    # (or its child) writes there would land in the recording.
    (tmp_path / "printing.py").write_text(PRINTS, encoding="utf-8")
    done = _trace_closing(
        tmp_path, closed, "run", "printing:app", "-n", "3", "-c", "1", "--record", "run.jsonl"
    )
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "run.jsonl").read_text(encoding="utf-8")
    assert '"status":200' in text  # the child could write where its stderr went
    assert "printed by the app 42" not in text
    assert "written by a child 42" not in text
    for line in text.splitlines():
        json.loads(line)

"""``trace run`` where one of its output streams has no room (``/dev/full``).

``2>/dev/full``: the progress bar failing as it closed ended the run before its report, which
never reached standard output (only the line naming the recording did), exit 2. Standard
output had room: the report (or the summary JSON) is written whole, then the exit code says a
write failed, 2, as ``trace summary`` does (tests/cli/test_summary_stderr_full.py).

``>/dev/full``: the report cannot be written, and the line naming the recording went with it.
That line is said on standard error instead, before the one error line, as with ``--json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracer import events as K
from tracer.recording import load

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full"),
]

APP = "sample_apps.hello:application"
NO_ROOM = "trace: error: Cannot write: No space left on device.\n"


def _run(record: Path, *flags: str, full: str) -> tuple[int, str, str]:
    """``python -m tracer run APP -n 5 --headless --record RECORD FLAGS`` with ``full``
    ("stdout", "stderr" or "both") on ``/dev/full``: exit code, stdout and stderr (the streams
    that had room)."""
    argv = [sys.executable, "-m", "tracer", "run", APP, "-n", "5", "--headless"]
    with open("/dev/full", "w") as disk:
        done = subprocess.run(
            [*argv, "--record", str(record), *flags],
            stdout=disk if full in ("stdout", "both") else subprocess.PIPE,
            stderr=disk if full in ("stderr", "both") else subprocess.PIPE,
            text=True,
            timeout=30,
            env={**os.environ, "COLUMNS": "100"},
        )
    return done.returncode, done.stdout or "", done.stderr or ""


def _answered(record: Path) -> int:
    """Requests of the recording answered 200: the run is whole."""
    events = load(record).events
    return sum(1 for e in events if e.kind == K.REQUEST_END and e.data.get("status") == 200)


def test_the_report_is_written_when_stderr_has_no_room(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    code, out, _ = _run(record, full="stderr")
    assert out.startswith(f"{APP} · WSGI threads\nRun"), out
    assert "Workers" in out and "status codes" in out, out
    assert out.endswith(f"recording: {record}\n"), out
    assert code == 2
    assert _answered(record) == 5


def test_the_json_is_written_when_stderr_has_no_room(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    code, out, _ = _run(record, "--json", full="stderr")
    assert json.loads(out)["requests"] == 5
    assert code == 2
    assert _answered(record) == 5


def test_a_report_with_no_room_names_the_recording_on_stderr(tmp_path: Path) -> None:
    """``> /dev/full``: one error line, after the recording's path, which the report would have
    ended with; the recording is whole."""
    record = tmp_path / "run.jsonl"
    code, _, err = _run(record, full="stdout")
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert err.endswith(f"recording: {record}\n{NO_ROOM}"), err
    assert err.count("trace: error") == 1, err
    assert code == 2
    assert _answered(record) == 5


def test_no_room_anywhere_is_exit_2_and_a_whole_recording(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    code, _, _ = _run(record, full="both")
    assert code == 2
    assert _answered(record) == 5

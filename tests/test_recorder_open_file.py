"""``Recorder.open_file``: the header on disk at once, and rewritten while no event follows it;
and a recorder whose writer thread never started (a Ctrl-C inside ``Thread.start``) closes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tracer.recorder import Recorder
from tracer.recording import load


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_header_is_on_disk_as_soon_as_the_file_is_opened(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    recorder = Recorder(path, app="early:app")
    assert not path.exists() or path.stat().st_size == 0  # lazily, by default
    recorder.open_file()
    # A process that died now (no Python code run after it) leaves this: a recording of none.
    lines = _lines(path)
    assert len(lines) == 1 and lines[0]["app"] == "early:app"
    assert load(str(path)).events == []
    recorder.close()


def test_a_header_changed_before_the_first_event_is_written_again(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    recorder = Recorder(path, app="early:app")
    recorder.open_file()
    recorder.header["server"] = {"model": "threads"}  # trace run: once the app is loaded
    assert recorder.start_now()  # t=0 moves: the header's clock with it, on disk at once
    header = _lines(path)[0]
    assert header["server"] == {"model": "threads"}
    assert header["clock"] == recorder.header["clock"]
    recorder.emit("mark", data={"label": "one"})
    recorder.drain()
    recorder.header["app"] = "late:app"  # after the first event: too late, as before
    recorder.close()
    lines = _lines(path)
    assert [line.get("kind") for line in lines[1:]] == ["mark"]
    assert lines[0]["app"] == "early:app" and lines[0]["server"] == {"model": "threads"}
    assert sum(1 for line in lines if "format" in line) == 1  # one header, never two


def test_a_header_changed_and_no_event_at_all_is_written_at_close(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl.gz"
    recorder = Recorder(path, app="early:app")
    recorder.open_file()
    recorder.header["app"] = "later:app"
    recorder.close()
    assert load(str(path)).header["app"] == "later:app"


def test_a_recorder_whose_thread_start_was_interrupted_closes_at_exit(tmp_path: Path) -> None:
    """Ctrl-C inside ``Thread.start`` (before the thread ran): ``Recorder()`` raises
    KeyboardInterrupt, and the recorder left behind is closed at exit without "cannot join
    thread before it is started", its file a recording of none."""
    path = tmp_path / "run.jsonl"
    script = f"""
import threading
from tracer.recorder import Recorder

real = threading.Thread.start

def interrupted(self):
    if self.name == "gateway-tracer-writer":
        raise KeyboardInterrupt  # where Python's handler would raise it, before the start
    real(self)

threading.Thread.start = interrupted
try:
    Recorder({str(path)!r})
except KeyboardInterrupt:
    print("interrupted")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "interrupted\n"
    assert done.stderr == ""
    assert load(str(path)).events == []

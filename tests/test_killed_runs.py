"""A run killed outright: its recording says it ends before its run did, however the kill fell.

A plain recording's header ends with ``"writer":"open"``, made ``"done"`` when the file is
closed or checkpointed; a killed run's file keeps ``"open"``, also when the kill fell between
two whole lines (it then read as a clean, complete run). Recordings written whole (the
library's ``save``, a finished ``trace run`` or ``trace sim``) and older ones never warn.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tracer
from tracer.cli import main
from tracer.events import Event
from tracer.recording import RecordingWriter, make_header

pytestmark = pytest.mark.timeout(60)

_TRACE = "import sys; sys.argv[0] = 'trace'; from tracer.cli import main; sys.exit(main())"


def _killed_run(path: Path) -> None:
    """A ``trace run`` of a million requests into ``path``, killed with SIGKILL (by its pid)
    once the file holds a few hundred events."""
    argv = ["run", "sample_apps.hello:asgi_app", "--server", "loop", "-n", "1000000", "-c", "5"]
    child = subprocess.Popen(
        [sys.executable, "-c", _TRACE, *argv, "--headless", "--record", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and child.poll() is None:
            if path.exists() and path.stat().st_size > 100_000:
                break
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL, "the run ended before it was killed"


def _to_last_whole_line(path: Path) -> None:
    """Cut the file after its last newline: the kill fell between two lines."""
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"\n") + 1])


def test_a_killed_run_cut_at_a_line_boundary_still_reads_as_unfinished(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "killed.jsonl"
    _killed_run(path)
    _to_last_whole_line(path)
    recording = tracer.load(path)
    assert not recording.truncated and recording.events
    assert recording.header["writer"] == "open"
    assert recording.unfinished
    assert main(["summary", str(path), "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["requests"] > 0  # what was written is still read
    assert err == (
        f"trace: warning: {path} ends before its run did (its process was killed, or is still "
        "writing it): it holds the events written until then.\n"
    )


def test_a_killed_gzip_run_reads_as_unfinished(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A ``.gz`` stream says it by its missing trailer (no ``writer`` field in its header).
    Killed between two writes, it ends where its writer flushed it, and is worded as a plain
    file is; killed in the middle of one, its last line is cut short."""
    path = tmp_path / "killed.jsonl.gz"
    _killed_run(path)
    recording = tracer.load(path)
    assert "writer" not in recording.header and recording.events
    assert recording.unfinished
    assert main(["summary", str(path)]) == 0
    said = "ends before its run did" if RecordingWriter.left_open(path) else "ends with a cut-short"
    assert capsys.readouterr().err.startswith(f"trace: warning: {path} {said}")


def test_a_finished_run_is_not_unfinished(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "run.jsonl"
    argv = ["run", "sample_apps.hello:wsgi_app", "--server", "threads", "-n", "5", "-c", "2"]
    assert main([*argv, "--headless", "--json", "--record", str(path)]) == 0
    capsys.readouterr()
    recording = tracer.load(path)
    assert recording.header["writer"] == "done" and not recording.unfinished
    assert main(["summary", str(path), "--json"]) == 0
    assert capsys.readouterr().err == ""


def test_library_recordings_and_older_ones_are_not_unfinished(tmp_path: Path) -> None:
    """``save`` and a closed streaming recorder finish their files; a file from before the
    header had the field (none there) is taken as it reads."""
    with tracer.Recorder(keep=True) as kept:
        kept.emit("mark", data={"label": "a"})
    saved = tracer.load(kept.save(tmp_path / "saved.jsonl"))
    assert not saved.unfinished and len(saved.events) == 1
    with tracer.Recorder(tmp_path / "streamed.jsonl") as streaming:
        streaming.emit("mark", data={"label": "a"})
    assert not tracer.load(tmp_path / "streamed.jsonl").unfinished
    older = tmp_path / "older.jsonl"
    older.write_text(
        json.dumps(make_header()) + "\n" + json.dumps({"seq": 0, "t": 1, "kind": "mark"}) + "\n"
    )
    assert not tracer.load(older).unfinished


def test_a_checkpoint_finishes_the_file_until_the_next_write(tmp_path: Path) -> None:
    """A drain someone asked for leaves the file complete (uvicorn stopped by SIGTERM runs no
    atexit after its lifespan's drain); events after it make the file open again."""
    path = tmp_path / "run.jsonl"
    writer = RecordingWriter(path, make_header())
    try:
        assert tracer.load(path).unfinished
        writer.write([Event(0, 1, "mark")])
        assert tracer.load(path).unfinished
        writer.checkpoint()
        assert not tracer.load(path).unfinished
        writer.write([Event(1, 2, "mark")])
        assert tracer.load(path).unfinished
    finally:
        writer.close()
    recording = tracer.load(path)
    assert not recording.unfinished and [e.seq for e in recording.events] == [0, 1]


def test_a_writer_copying_a_finished_header_marks_its_own_file(tmp_path: Path) -> None:
    """A header read from a finished file ("done") and written again says "open" until
    the new file is finished: the field is the writer's, not the header's."""
    header = dict(make_header(), writer="done", app="x")
    path = tmp_path / "copy.jsonl"
    writer = RecordingWriter(path, header)
    first = path.read_text().splitlines()[0]
    assert first.endswith(',"writer":"open"}') and first.count('"writer"') == 1
    writer.close()
    assert tracer.load(path).header["writer"] == "done"


def test_gzip_recordings_use_zlibs_default_level(tmp_path: Path) -> None:
    """Level 9 (the stdlib's default) is a third as fast: the writer then fell behind a fast
    run and a kill lost a second of events. The gzip header's XFL byte says the level class
    (2: maximum compression, 4: fastest, 0: the others)."""
    path = tmp_path / "run.jsonl.gz"
    writer = RecordingWriter(path, make_header())
    writer.write([Event(i, i, "mark") for i in range(10)])
    writer.close()
    data = path.read_bytes()
    assert data[:2] == b"\x1f\x8b" and data[8] == 0
    assert len(tracer.load(path).events) == 10


def test_export_and_replay_warn_of_a_killed_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "killed.jsonl"
    _killed_run(path)
    _to_last_whole_line(path)
    assert main(["export", str(path), "--to", "svg", "-o", str(tmp_path / "k.svg")]) == 0
    assert "ends before its run did" in capsys.readouterr().err
    assert main(["replay", str(path), "--screenshot", str(tmp_path / "r.svg")]) == 0
    assert "ends before its run did" in capsys.readouterr().err

"""A file recorder's life across processes: exit without close(), worker processes sharing a
path (each importing the app, or forked from one that made the recorder), use after close()."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tracer
from tracer import events as K
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=40,
        cwd=ROOT,
    )


@pytest.mark.parametrize("name", ["exit.jsonl", "exit.jsonl.gz"])
def test_a_recorder_nobody_closed_is_written_whole_at_exit(tmp_path: Path, name: str) -> None:
    """A script (or a server stopped by Ctrl-C) that ends without ``close()``: every event is
    in the file, and a .gz stream is complete (not read as cut short)."""
    path = tmp_path / name
    done = _python(
        """
        import sys, tracer
        rec = tracer.Recorder(sys.argv[1], flush_interval=60)
        for i in range(5):
            rec.emit("mark", None, {"label": str(i)})
        """,
        str(path),
    )
    assert done.returncode == 0, done.stderr
    recording = tracer.load(path)
    assert [e.data["label"] for e in recording.events] == ["0", "1", "2", "3", "4"]
    assert not recording.truncated


def test_worker_processes_importing_one_path_each_keep_a_whole_recording(
    tmp_path: Path,
) -> None:
    """Two processes open ``run.jsonl`` at once (gunicorn ``-w 2``, each importing the app):
    the first writes it, the second writes ``run.<pid>.jsonl`` and says so; neither file is
    cut or interleaved."""
    path = tmp_path / "run.jsonl"
    code = """
        import sys, time, tracer
        rec = tracer.Recorder(sys.argv[1])
        rec.emit("mark", None, {"label": "first"})
        rec.drain()  # the file is open (and locked) now
        print("open", flush=True)
        sys.stdin.readline()  # hold it until the other process has written its own
        for i in range(3):
            rec.emit("mark", None, {"label": str(i)})
        rec.close()
        """
    first = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert first.stdout is not None and first.stdout.readline() == "open\n"
        second = _python(code.replace("sys.stdin.readline()", "pass"), str(path))
        assert second.returncode == 0, second.stderr
    finally:
        first.communicate("go\n", timeout=30)
    assert first.returncode == 0
    [beside] = [p for p in tmp_path.iterdir() if p.name != "run.jsonl"]
    assert beside.name.startswith("run.") and beside.name.endswith(".jsonl")
    assert "is being written by another process" in second.stderr
    assert str(beside) in second.stderr
    for each in (path, beside):
        labels = [e.data["label"] for e in tracer.load(each).events]
        assert labels == ["first", "0", "1", "2"]


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_children_forked_after_the_recorder_was_made_record_their_own_events(
    tmp_path: Path,
) -> None:
    """A recorder made before a fork (gunicorn ``--preload``): each child drains on a thread
    of its own into ``run.<pid>.jsonl``, with its own pid; the parent, which recorded nothing,
    leaves its empty recording at the path when it closes."""
    path = tmp_path / "run.jsonl"
    done = _python(
        """
        import os, sys, time, tracer
        rec = tracer.Recorder(sys.argv[1], flush_interval=0.02)
        rec.sink()  # a producer fetched the sink before the fork
        children = []
        for n in range(2):
            pid = os.fork()
            if pid == 0:
                for i in range(3):
                    rec.emit("mark", None, {"label": f"{n}.{i}"})
                time.sleep(0.3)  # the child's own drain thread writes them
                os._exit(0 if rec.backlog == 0 else 3)
            children.append(pid)
            time.sleep(0.15)
        codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
        print(codes)
        rec.close()
        """,
        str(path),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[0, 0]"
    assert tracer.load(path).events == []
    files = sorted(p for p in tmp_path.iterdir() if p != path)
    assert len(files) == 2
    seen = {}
    for each in files:
        recording = tracer.load(each)
        pids = {e.pid for e in recording.events}
        labels = [e.data["label"] for e in recording.events]
        assert len(pids) == 1 and len(labels) == 3
        assert each.name == f"run.{min(pids)}.jsonl"
        seen[labels[0][0]] = pids
    assert set(seen) == {"0", "1"} and seen["0"] != seen["1"]


def test_events_after_close_never_break_reading_and_do_not_pile_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A streaming recorder used after ``close()`` (requests after a ``with`` block): the file
    keeps what came before, reading ``events`` does not fail on the closed file, and later
    requests do not grow a queue nobody reads (one warning says they are dropped)."""
    path = tmp_path / "run.jsonl"
    with Recorder(path) as rec:
        rec.emit(K.MARK, None, {"label": "in"})
    caplog.set_level(logging.WARNING, logger="tracer")
    sink = rec.sink()
    for seq in range(1000):
        sink.append((seq, 0, K.MARK, None, 1, 1, "t", None, None, {"label": "late"}))
    assert rec.backlog == 0
    assert rec.events == []
    assert [e.data["label"] for e in tracer.load(path).events] == ["in"]
    assert sum("after the recording" in r.getMessage() for r in caplog.records) == 1
    # An in-memory recorder keeps what comes after close(), as before.
    memory = Recorder()
    memory.close()
    memory.emit(K.MARK, None, {"label": "late"})
    assert [e.data["label"] for e in memory.events] == ["late"]


def test_an_empty_file_claimed_just_before_is_still_given_a_header(tmp_path: Path) -> None:
    """``trace run`` claims its recording's path (an empty file) just before the recorder is
    made: a run that records nothing still leaves a valid recording, not a 0-byte file."""
    path = tmp_path / "run.jsonl"
    path.write_bytes(b"")
    Recorder(path).close()
    assert tracer.load(path).events == []

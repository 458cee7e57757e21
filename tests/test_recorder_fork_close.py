"""A file recorder across fork() and after close(): a child never writes (or truncates) the
parent's file, whatever state the parent's recorders are in; events after close() are dropped
on every way in; the path is the one meant when the recorder was made; save() says when
there is nothing in memory to save."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tracer
from tracer import events as K
from tracer.errors import TracerError
from tracer.recorder import EventsNotKept, Recorder

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parent.parent

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    # Forks happen in a fresh interpreter: the test process runs threads (and other recorders).
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=40,
        cwd=ROOT,
    )


def _labels(path: Path) -> list[tuple[str, int]]:
    recording = tracer.load(path)
    assert not recording.truncated
    return [(e.data["label"], e.pid) for e in recording.events]


@needs_fork
@pytest.mark.parametrize("name", ["run.jsonl", "run.jsonl.gz"])
def test_a_closed_recorder_alive_at_fork_leaves_the_others_recording_apart(
    tmp_path: Path, name: str
) -> None:
    """Closed recorders still referenced at the fork (a module global, a fixture) do not stop
    the child's reset of the live one: the parent's file holds the parent's events, once each
    (a .gz stream whole), and the child's events go to ``run.<childpid>.jsonl``."""
    path = tmp_path / name
    done = _python(
        """
        import os, sys, tracer
        closed = []
        for n in range(8):  # several, wherever the live one falls among them at the fork
            old = tracer.Recorder(os.path.join(sys.argv[2], f"old{n}.jsonl"))
            old.emit("mark", None, {"label": "old"})
            old.close()
            closed.append(old)
        rec = tracer.Recorder(sys.argv[1], flush_interval=60)
        rec.emit("mark", None, {"label": "parent-1"})
        rec.drain()  # the file is open
        rec.emit("mark", None, {"label": "parent-2"})  # queued at the fork
        pid = os.fork()
        if pid == 0:
            rec.emit("mark", None, {"label": "child"})
            rec.close()
            os._exit(0)
        os.waitpid(pid, 0)
        rec.emit("mark", None, {"label": "parent-3"})
        rec.close()
        print(os.getpid(), pid)
        """,
        str(path),
        str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    parent, child = map(int, done.stdout.split())
    assert _labels(path) == [("parent-1", parent), ("parent-2", parent), ("parent-3", parent)]
    beside = tmp_path / name.replace("run.", f"run.{child}.")
    assert _labels(beside) == [("child", child)]


@needs_fork
def test_one_recorder_failing_its_reset_at_fork_does_not_stop_the_others(tmp_path: Path) -> None:
    """Each recorder is reset in the child on its own: one that fails is logged, and the one
    after it still gets the child's pid and a file of its own."""
    done = _python(
        """
        import os, sys, tracer, tracer.recorder as R, tracer.recorder_fork as F

        class Broken(R.Recorder):
            def _forked(self):
                raise RuntimeError("broken reset")

        broken = Broken()
        rec = R.Recorder(sys.argv[1], flush_interval=60)
        rec.emit("mark", None, {"label": "parent"})
        rec.drain()
        F.LIVE = [broken, rec]  # the failing one first, always
        pid = os.fork()
        if pid == 0:
            ok = rec.sink().pid == os.getpid() and rec.path != sys.argv[1]
            rec.close()
            os._exit(0 if ok else 3)
        code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        rec.close()
        print(code)
        """,
        str(tmp_path / "run.jsonl"),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"
    assert "broken reset" in done.stderr  # said, not swallowed
    assert [label for label, _ in _labels(tmp_path / "run.jsonl")] == ["parent"]


@needs_fork
@pytest.mark.parametrize("parent_first", [False, True], ids=["child-first", "parent-closed-first"])
def test_a_child_forked_before_the_first_write_keeps_its_recording(
    tmp_path: Path, parent_first: bool
) -> None:
    """A fork right after the first event, before any drain opened the file: the child writes
    ``run.<pid>.jsonl``, so neither the parent's first write (truncating the path) nor the
    child's (after the parent closed its file) loses the other's events. Request ids taken in
    the child are not the parent's."""
    path = tmp_path / "run.jsonl"
    done = _python(
        """
        import os, sys, tracer
        parent_first = sys.argv[2] == "1"
        rec = tracer.Recorder(sys.argv[1], flush_interval=60)
        rec.emit("mark", None, {"label": "before"})
        first = rec.new_request_id()
        if parent_first:
            rec.drain()  # the parent has the file open at the fork: the child must not take it
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(write)
            if parent_first:
                os.read(read, 1)  # until the parent has closed its file
            rec.emit("mark", None, {"label": "child", "req": rec.new_request_id()})
            rec.close()
            os._exit(0)
        os.close(read)
        rec.emit("mark", None, {"label": "after", "req": rec.new_request_id()})
        if parent_first:
            rec.close()
            os.write(write, b"x")
        os.waitpid(pid, 0)
        rec.close()
        print(os.getpid(), pid, first)
        """,
        str(path),
        "1" if parent_first else "0",
    )
    assert done.returncode == 0, done.stderr
    parent, child, first = map(int, done.stdout.split())
    recording = tracer.load(path)
    assert [(e.data["label"], e.pid) for e in recording.events] == [
        ("before", parent),
        ("after", parent),
    ]
    [mine] = tracer.load(tmp_path / f"run.{child}.jsonl").events
    assert (mine.data["label"], mine.pid) == ("child", child)
    assert mine.data["req"] not in {first, recording.events[1].data["req"]}
    assert {p.name for p in tmp_path.iterdir()} == {"run.jsonl", f"run.{child}.jsonl"}


@needs_fork
def test_a_forked_child_that_records_nothing_leaves_no_file(tmp_path: Path) -> None:
    """gunicorn ``--preload``: the parent made the recorder and records nothing, its workers
    record their requests. The parent leaves its (empty) recording at the path, each worker
    that recorded something a file of its own beside it, and one that recorded nothing none."""
    path = tmp_path / "run.jsonl"
    done = _python(
        """
        import os, sys, tracer
        rec = tracer.Recorder(sys.argv[1], flush_interval=0.02)
        children = []
        for n in range(2):
            pid = os.fork()
            if pid == 0:
                if n == 0:
                    rec.emit("mark", None, {"label": "worker"})
                rec.close()
                os._exit(0)
            children.append(pid)
        for pid in children:
            os.waitpid(pid, 0)
        rec.close()
        print(*children)
        """,
        str(path),
    )
    assert done.returncode == 0, done.stderr
    busy, idle = map(int, done.stdout.split())
    assert {p.name for p in tmp_path.iterdir()} == {"run.jsonl", f"run.{busy}.jsonl"}
    assert tracer.load(path).events == []
    assert _labels(tmp_path / f"run.{busy}.jsonl") == [("worker", busy)]
    assert str(idle) not in done.stderr


def test_emit_and_add_after_close_drop_their_events_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``emit`` (and ``add``) after ``close()`` of a streaming recorder drop the event, as the
    sink does: nothing reads the queue any more, so it must not grow."""
    path = tmp_path / "run.jsonl"
    with Recorder(path) as rec:
        rec.emit(K.MARK, None, {"label": "in"})
    caplog.set_level(logging.WARNING, logger="tracer")
    late = tracer.Event(0, 0, K.MARK, None, 1, 1, "t", None, None, {"label": "late"})
    for _ in range(1000):
        rec.emit(K.MARK, None, {"label": "late"})
        rec.add(late)
    rec.sink().append((0, 0, K.MARK, None, 1, 1, "t", None, None, {"label": "late"}))
    assert rec.backlog == 0
    assert sum("after the recording" in r.getMessage() for r in caplog.records) == 1
    assert [label for label, _ in _labels(path)] == ["in"]
    # One that keeps events in memory still keeps what comes after close().
    kept = Recorder(tmp_path / "kept.jsonl", keep=True)
    kept.close()
    kept.emit(K.MARK, None, {"label": "late"})
    assert [e.data["label"] for e in kept.events] == ["late"]


def test_a_relative_path_is_the_one_meant_when_the_recorder_was_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``Recorder("run.jsonl")`` then a chdir (a server's, a test's) before the first write:
    the file is written where the recorder was made, and ``path`` says so."""
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    monkeypatch.chdir(first)
    rec = Recorder("run.jsonl")
    rec.emit(K.MARK, None, {"label": "x"})
    monkeypatch.chdir(second)
    rec.close()
    assert rec.path == str(first / "run.jsonl")
    assert [label for label, _ in _labels(first / "run.jsonl")] == ["x"]
    assert list(second.iterdir()) == []


def test_saving_a_recorder_that_keeps_no_events_is_refused_and_says_where_they_are(
    tmp_path: Path,
) -> None:
    """A streaming recorder keeps no events in memory (``keep`` defaults to False with a
    path): ``save()`` would write a header-only copy while the file holds the run. It raises,
    naming the file, and writes nothing; with ``keep=True`` it saves as before."""
    path = tmp_path / "run.jsonl"
    copy = tmp_path / "copy.jsonl"
    with Recorder(path) as rec:
        rec.emit(K.MARK, None, {"label": "x"})
        with pytest.raises(EventsNotKept, match=f"keeps no events in memory.*{path.name}"):
            rec.save(copy)
    assert issubclass(EventsNotKept, TracerError)
    with pytest.raises(EventsNotKept):
        Recorder(keep=False).save(copy)
    assert not copy.exists()
    with Recorder(tmp_path / "kept.jsonl", keep=True) as kept:
        kept.emit(K.MARK, None, {"label": "x"})
        kept.save(copy)
    assert [label for label, _ in _labels(copy)] == ["x"]

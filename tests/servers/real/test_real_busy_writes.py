"""A busy server process writes its events less often, and loses nothing by it.

``ProcessRecorder`` pauses ``BUSY_FLUSH_INTERVAL`` after a timed write of ``BUSY_ROWS`` rows
or more (``FLUSH_INTERVAL`` otherwise); the parent's ``Merger`` tells from a stream's last
frame which pause its writer is in (``busy``), so that the run's end waits long enough for
the last write. Every row is still written once, in order: the partial batch left at
``close``, and a process killed outright keeps every frame written before.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from real_helpers import run_real

from tracer import events as K
from tracer.client import ClientConfig
from tracer.recorder import Recorder
from tracer.servers.real.bootstrap import FLUSH_INTERVAL, ProcessRecorder
from tracer.servers.real.frames import BUSY_FLUSH_INTERVAL, BUSY_ROWS, FrameReader, encode
from tracer.servers.real.merge import Merger


def _marks(recorder: Recorder, first: int, count: int) -> None:
    for n in range(first, first + count):
        recorder.emit(K.MARK, None, {"n": n}, t=n)


def _written(path: Path) -> tuple[list[int], int]:
    """The ``n`` of every row in ``path``'s complete frames, and the bytes left over."""
    reader = FrameReader()
    rows = reader.feed(path.read_bytes())
    return [row[9]["n"] for row in rows], reader.pending


def _paused(recorder: ProcessRecorder, count: int) -> float:
    """The pause the writer takes after a write of ``count`` rows (queued, written and
    asked under the drain lock, so that the writer thread cannot split the batch)."""
    with recorder._drain_lock:
        _marks(recorder, 0, count)
        recorder._write_queued()
        return recorder._next_flush_interval()


def test_a_busy_write_is_followed_by_the_longer_pause(tmp_path: Path) -> None:
    recorder = ProcessRecorder(tmp_path / "1.events", start_ns=0)
    try:
        assert _paused(recorder, BUSY_ROWS) == BUSY_FLUSH_INTERVAL
        assert _paused(recorder, BUSY_ROWS - 1) == FLUSH_INTERVAL
        assert _paused(recorder, BUSY_ROWS + 5) == BUSY_FLUSH_INTERVAL
        assert _paused(recorder, 0) == FLUSH_INTERVAL  # an empty drain: back to the short one
    finally:
        recorder.close()


def test_a_longer_flush_interval_is_never_shortened(tmp_path: Path) -> None:
    recorder = ProcessRecorder(tmp_path / "1.events", start_ns=0, flush_interval=60.0)
    try:
        assert _paused(recorder, BUSY_ROWS) == 60.0
        assert _paused(recorder, 1) == 60.0
    finally:
        recorder.close()


def test_the_plain_recorder_keeps_its_fixed_interval(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "run.jsonl", flush_interval=0.5)
    try:
        _marks(recorder, 0, BUSY_ROWS * 2)
        recorder.drain()
        assert recorder._next_flush_interval() == 0.5
    finally:
        recorder.close()


def test_the_partial_last_batch_is_written_at_close(tmp_path: Path) -> None:
    """A busy batch, then a few rows queued during the long pause: ``close`` writes them,
    after the busy ones, each once."""
    path = tmp_path / "1.events"
    recorder = ProcessRecorder(path, start_ns=0)
    with recorder._drain_lock:
        _marks(recorder, 0, BUSY_ROWS * 3)
    recorder.drain()
    _marks(recorder, BUSY_ROWS * 3, 7)
    recorder.close()
    assert _written(path) == (list(range(BUSY_ROWS * 3 + 7)), 0)


def test_the_merger_tells_a_busy_stream_by_its_last_frame(tmp_path: Path) -> None:
    stream = tmp_path / "41.events"
    parent = Recorder()
    merger = Merger(tmp_path, parent, interval=None)

    def frame(first: int, count: int) -> bytes:
        return encode([(n, n, K.MARK, None, 41, 1, "t", None, None, {"n": n})
                       for n in range(first, first + count)])  # fmt: skip

    stream.write_bytes(frame(0, 3))
    assert merger.poll() == 3 and not merger.busy
    with stream.open("ab") as out:
        out.write(frame(3, 2) + frame(5, BUSY_ROWS))
    assert merger.poll() == BUSY_ROWS + 2 and merger.busy
    assert merger.poll() == 0 and merger.busy  # nothing new: the writer may still be pausing
    with stream.open("ab") as out:
        out.write(frame(5 + BUSY_ROWS, BUSY_ROWS) + frame(5 + 2 * BUSY_ROWS, 1))
    assert merger.poll() == BUSY_ROWS + 1 and not merger.busy  # the last frame counts
    merger.stop()
    assert [e.data["n"] for e in parent.events] == list(range(6 + 2 * BUSY_ROWS))


def test_a_process_killed_after_a_busy_write_keeps_every_frame_written(tmp_path: Path) -> None:
    """SIGKILL in the long pause after a busy write: the frames written before are whole and
    read back; only the rows queued since are lost, as with any pause before."""
    path = tmp_path / "1.events"
    code = textwrap.dedent(
        f"""
        import os, signal
        from tracer import events as K
        from tracer.servers.real.bootstrap import ProcessRecorder
        recorder = ProcessRecorder({str(path)!r}, start_ns=0, flush_interval=3600)
        for n in range({BUSY_ROWS * 2}):
            recorder.emit(K.MARK, None, {{"n": n}}, t=n)
        recorder.drain()
        for n in range({BUSY_ROWS * 2}, {BUSY_ROWS * 2 + 9}):
            recorder.emit(K.MARK, None, {{"n": n}}, t=n)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert _written(path) == (list(range(BUSY_ROWS * 2)), 0)


def test_a_busy_uvicorn_run_keeps_the_server_events_of_every_request() -> None:
    """600 requests as fast as uvicorn serves them (past some 650 a second its writes are busy
    ones): every request the client sent has its server start and end, once each."""
    run = run_real("uvicorn", "sample_apps.hello:asgi_app",
                   ClientConfig(concurrency=20, requests=600))  # fmt: skip
    assert run.stats.status == {200: 600}
    sent = run.client_reqs()
    for kind in (K.REQUEST_START, K.REQUEST_END):
        served = [e.req for e in run.kinds(kind) if e.req in sent]
        assert sorted(served) == sorted(sent)
    assert {e.pid for e in run.kinds(K.REQUEST_END) if e.req in sent} == run.pids

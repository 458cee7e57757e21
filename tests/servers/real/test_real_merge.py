"""The merger under a descriptor shortage: one line, no traceback per poll, nothing lost."""

from __future__ import annotations

import errno
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from tracer import events as K
from tracer.recorder import Recorder
from tracer.servers.real.bootstrap import ProcessRecorder
from tracer.servers.real.merge import Merger

pytestmark = pytest.mark.timeout(30)


class _Crowded(type(Path())):  # type: ignore[misc]
    """A folder whose listing fails with EMFILE ``failures`` times, as when the run's
    connections took every descriptor the process may open."""

    failures = 0

    def glob(self, pattern: str, *args: Any, **kwargs: Any) -> Any:
        if _Crowded.failures:
            _Crowded.failures -= 1
            raise OSError(errno.EMFILE, "Too many open files", str(self))
        return super().glob(pattern, *args, **kwargs)


def _stream(folder: Path, pid: int, count: int) -> None:
    recorder = ProcessRecorder(folder / f"{pid}.events", start_ns=0)
    for n in range(count):
        recorder.emit(K.MARK, n + 1, {"label": str(n)})
    recorder.close()


def test_a_poll_that_cannot_list_the_streams_raises_nothing_and_loses_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """poll() (the end of the run's settling calls it directly) merges nothing that time, says
    so once, and the next poll merges everything."""
    _stream(tmp_path, 41, 3)
    parent = Recorder(start_ns=0)
    merger = Merger(tmp_path, parent, interval=None)
    merger.directory = _Crowded(tmp_path)
    _Crowded.failures = 2
    with caplog.at_level(logging.WARNING, logger="tracer"):
        assert merger.poll() == 0
        assert merger.poll() == 0
        assert merger.poll() == 3
    assert merger.failed_polls == 2
    assert merger.stop() == 3
    assert [e.req for e in parent.recording().events] == [1, 2, 3]
    (record,) = caplog.records
    assert record.exc_info is None and "Too many open files" in record.getMessage()


def test_the_background_merge_logs_one_line_for_many_failed_polls(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Every poll of the merge thread failing for a while: one line in the log (there was a
    full traceback per poll, five a second), and what the streams hold is merged after."""
    _stream(tmp_path, 42, 5)
    parent = Recorder(start_ns=0)
    merger = Merger(tmp_path, parent, interval=0.01)
    merger.directory = _Crowded(tmp_path)
    _Crowded.failures = 20
    with caplog.at_level(logging.WARNING, logger="tracer"):
        merger.start()
        deadline = time.monotonic() + 10
        while merger.merged < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        merger.stop()
    assert merger.merged == 5 and _Crowded.failures == 0
    assert len(caplog.records) == 1
    assert caplog.records[0].exc_info is None


def test_stop_tries_again_for_what_is_left(tmp_path: Path) -> None:
    """The last read, at the end of the run, fails a few times too: stop tries again (the
    run's connections are closing, giving their descriptors back) and merges it all."""
    _stream(tmp_path, 43, 4)
    parent = Recorder(start_ns=0)
    merger = Merger(tmp_path, parent, interval=None)
    merger.directory = _Crowded(tmp_path)
    _Crowded.failures = 3
    assert merger.stop() == 4
    assert merger.failed_polls == 3


def test_a_merge_thread_that_could_not_start_does_not_break_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine out of threads (another process took them all): ``start`` fails, and
    ``stop`` still merges what is there instead of failing to join a thread never started."""
    import threading

    _stream(tmp_path, 44, 2)
    merger = Merger(tmp_path, Recorder(start_ns=0), interval=0.01)

    def cannot(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", cannot)
    with pytest.raises(RuntimeError):
        merger.start()
    monkeypatch.undo()
    assert merger.stop() == 2

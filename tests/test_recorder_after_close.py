"""Events that come after a file recorder was closed (an app's thread or task still at work
after the run) never reach the file, and one warning says so, whatever else reads them:
a subscriber (``trace run``'s digest) or memory still gets them."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

import tracer
from tracer import events as K
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.shim.wsgi import WsgiShim

pytestmark = pytest.mark.timeout(60)

WARNING = "events recorded after the recording"


def _warnings(caplog: pytest.LogCaptureFixture) -> int:
    return sum(WARNING in record.getMessage() for record in caplog.records)


def _labels(path: Path) -> list[str]:
    return [e.data["label"] for e in tracer.load(path).events if e.kind == K.MARK]


def test_a_subscribed_recorder_warns_once_and_still_feeds_its_subscriber(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A file recorder with a subscriber, as ``trace run``'s: what is emitted or added after
    ``close()`` is not in the file, one warning says so, and the subscriber still gets it at
    the next drain."""
    path = tmp_path / "run.jsonl"
    seen: list[Event] = []
    rec = Recorder(path)
    rec.subscribe(seen.extend)
    rec.emit(K.MARK, None, {"label": "in"})
    rec.close()
    caplog.set_level(logging.WARNING, logger="tracer")
    for _ in range(3):
        rec.emit(K.MARK, None, {"label": "late"})
    rec.add(Event(0, 0, K.MARK, None, 1, 1, "t", None, None, {"label": "added"}))
    rec.sink().append((0, 0, K.MARK, None, 1, 1, "t", None, None, {"label": "sunk"}))
    rec.drain()
    assert _warnings(caplog) == 1
    assert [e.data["label"] for e in seen] == ["in", "late", "late", "late", "added", "sunk"]
    assert _labels(path) == ["in"]


def test_rows_from_a_sink_fetched_before_close_are_warned_about_when_drained(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A request that began before ``close()`` keeps the sink it fetched then and ends after
    it: its rows go to the queue directly; the drain that meets them warns once."""
    path = tmp_path / "run.jsonl"
    rec = Recorder(path, keep=True)
    sink = rec.sink()
    rec.close()
    caplog.set_level(logging.WARNING, logger="tracer")
    sink.append((next(sink.seq), 0, K.MARK, None, 1, 1, "t", None, None, {"label": "late"}))
    assert [e.data["label"] for e in rec.events] == ["late"]
    assert _warnings(caplog) == 1
    assert _labels(path) == []


def test_a_late_start_response_from_an_app_thread_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An app keeps ``start_response`` and calls it from its own thread after the recording
    was closed: its WSGI-026 violation cannot be in the file, and the warning says so."""
    path = tmp_path / "run.jsonl"
    rec = Recorder(path)
    rec.subscribe(lambda batch: None)
    kept: list[Any] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        kept.append(start_response)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    shim = WsgiShim(app, recorder=rec)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.input": None}
    body = shim(environ, lambda status, headers, exc_info=None: None)
    list(body)
    body.close()
    rec.close()
    caplog.set_level(logging.WARNING, logger="tracer")
    late = threading.Thread(target=kept[0], args=("200 OK", []))
    late.start()
    late.join()
    assert _warnings(caplog) == 1
    kinds = [e.kind for e in tracer.load(path).events]
    assert kinds[-1] == K.REQUEST_END and K.VIOLATION not in kinds


def test_rows_nobody_drained_are_warned_about_at_exit(tmp_path: Path) -> None:
    """A process whose request ends after the recording was closed, through a sink fetched
    before, and that exits without draining again: the warning comes at exit, once."""
    path = tmp_path / "run.jsonl"
    script = textwrap.dedent(
        """
        import sys
        from tracer import events as K
        from tracer.recorder import Recorder

        rec = Recorder(sys.argv[1])
        rec.subscribe(lambda batch: None)
        sink = rec.sink()
        rec.close()
        sink.append((next(sink.seq), 0, K.MARK, None, 1, 1, "t", None, None, {"label": "x"}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count(WARNING) == 1
    assert _labels(path) == []

"""The live dashboard and the replay, unchanged, on a real server's run (Textual pilot)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from real_helpers import ROOT

from tracer import events as K
from tracer.recorder import Recorder
from tracer.recording import load
from tracer.run import RunConfig, open_server, run
from tracer.summary import summarize

pytest.importorskip("textual")
pytestmark = pytest.mark.timeout(90)


def test_live_dashboard_then_replay_of_a_gunicorn_run(tmp_path: Path) -> None:
    """trace run's dashboard over gunicorn with 2 workers: the live stats count every response,
    the run ends in the replay, and the recording on disk summarises to the same counts with
    request lanes from both worker processes."""
    from tracer.tui.live import LiveApp

    path = tmp_path / "run.jsonl"
    recorder = Recorder(path)
    config = RunConfig(
        app="sample_apps.io_bound:wsgi_app", app_dir=ROOT, server="gunicorn", workers=2,
        requests=30, concurrency=6, paths=("/?ms=20",),
    )  # fmt: skip
    server = open_server(config, recorder)

    def work(stop: threading.Event) -> None:
        run(config, recorder, server=server, stop=stop)

    app = LiveApp(recorder, work, title="gunicorn", total_requests=30)

    async def drive() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(600):
                if app.replaying:
                    break
                await pilot.pause(0.05)
            assert app.replaying, "the run never reached the replay"
            await pilot.press("q")

    try:
        asyncio.run(drive())
    finally:
        server.stop()
        recorder.close()
    assert app.error is None
    assert app.stats.snapshot().completed == 30  # the live view saw every server-side end
    recording = load(path)
    summary = summarize(recording)
    assert summary["completed"] == 30 and summary["status"] == {"200": 30}
    pids = {e.pid for e in recording.events if e.kind == K.REQUEST_START}
    assert len(pids) == 2

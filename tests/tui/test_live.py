"""The live dashboard: fed by a real Recorder while a run goes on, then the replay; q stops."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from pilot_helpers import until as _until
from textual.widgets import Static

from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.tui.live import LiveApp, LiveScreen
from tracer.tui.screen import ReplayScreen

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_dashboard_follows_the_run_then_becomes_the_replay(
    loop_rec: Recording, tmp_path: Path
) -> None:
    """Events added while the run goes on reach the header; when work returns, the whole
    recording (read back from disk) is replayed."""
    recorder = Recorder(tmp_path / "run.jsonl", flush_interval=0.02)
    recorder.header.update(loop_rec.header)
    half = len(loop_rec.events) // 2
    release = threading.Event()

    def work(stop: threading.Event) -> None:
        recorder.extend(loop_rec.events[:half])
        release.wait(10)
        recorder.extend(loop_rec.events[half:])
        recorder.close()

    app = LiveApp(recorder, work, title="live test", total_requests=8)
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.screen, LiveScreen)
        await _until(pilot, lambda: app.stats.snapshot().completed > 0)
        header = str(app.screen.query_one("#live-header", Static).render())
        assert "live test" in header and "/8" in header
        assert "q: stop the run" in header  # the key it takes, said on screen
        # Histogram rows read "  0.0–20.5ms", the unit right after its number.
        rows = str(app.screen.query_one("#histogram", Static).render()).splitlines()[1:]
        assert rows and all(re.search(r"–\d+\.\dms ", row) for row in rows), rows
        assert app.screen.query_one("#recent").lanes
        release.set()
        await _until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        replay = app.screen
        assert len(replay.models[0].by_request) == 8
        assert len(replay.models[0].recording.events) == len(loop_rec.events)
        await pilot.press("q")
    assert app.error is None


async def test_q_stops_the_run_and_exits_after_it_flushed(
    loop_rec: Recording, tmp_path: Path
) -> None:
    """q sets stop; the app exits only once work has returned, and the file is complete."""
    path = tmp_path / "run.jsonl"
    recorder = Recorder(path, flush_interval=0.02)
    recorder.header.update(loop_rec.header)
    returned = threading.Event()

    def work(stop: threading.Event) -> None:
        recorder.extend(loop_rec.events[:20])
        stop.wait(30)
        recorder.extend(loop_rec.events[20:30])
        recorder.close()
        returned.set()

    app = LiveApp(recorder, work, title="stoppable")
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: app.stats.latest > 0)
        await pilot.press("q")
        assert app.stop.is_set()
        await _until(pilot, lambda: not app.is_running)
    assert returned.is_set()
    from tracer.recording import load

    assert len(load(path).events) == 30


async def test_an_exception_in_work_ends_the_dashboard(loop_rec: Recording) -> None:
    """A run that raises ends the app and keeps the error for run_live to raise."""
    recorder = Recorder()

    def work(stop: threading.Event) -> None:
        raise RuntimeError("server died")

    app = LiveApp(recorder, work, title="broken")
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: not app.is_running)
    assert isinstance(app.error, RuntimeError)


async def test_a_run_that_recorded_nothing_replays_empty(tmp_path: Path) -> None:
    """No events means no file yet: the replay opens empty instead of failing."""
    recorder = Recorder(tmp_path / "nothing.jsonl", flush_interval=0.02)

    def work(stop: threading.Event) -> None:
        return None

    app = LiveApp(recorder, work, title="empty")
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        assert len(app.screen.models[0].by_request) == 0
        await pilot.press("q")
    recorder.close()


async def test_a_narrow_dashboard_keeps_the_errors_in_its_header(
    threads_rec: Recording, tmp_path: Path
) -> None:
    """At 60 columns the header's numbers are cut at the end: the error count comes before
    the percentiles, so it is still there."""
    recorder = Recorder(tmp_path / "run.jsonl", flush_interval=0.02)
    recorder.header.update(threads_rec.header)
    release = threading.Event()

    def work(stop: threading.Event) -> None:
        recorder.extend(threads_rec.events)
        release.wait(10)
        recorder.close()

    app = LiveApp(recorder, work, title="narrow", total_requests=10)
    async with app.run_test(size=(60, 24)) as pilot:
        await _until(pilot, lambda: app.stats.snapshot().completed == 10)
        await pilot.pause(0.3)
        header = str(app.screen.query_one("#live-header", Static).render()).splitlines()
        assert "errors 1" in header[1][: 60 - 2], header
        release.set()
        await _until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        await pilot.press("q")


def _chart(app: LiveApp) -> list[str]:
    """The rps chart's rows as drawn, top first."""
    chart = app.screen.query_one("#rps")
    return [chart.render_line(y).text for y in range(chart.size.height)]


async def test_the_rps_chart_is_empty_without_traffic_and_measured_from_zero(
    tmp_path: Path,
) -> None:
    """Before any request is done the chart is empty (Textual's Sparkline drew a one-value
    series as solid bars: a wall of traffic at rps 0); then each 100 ms bucket that is over is
    a column as high as its rate over the highest, so two equal buckets are two full bars (from
    the least value, they were the floor line)."""
    from tracer import events as K
    from tracer.events import Event

    ms = 1_000_000
    recorder = Recorder(tmp_path / "run.jsonl", flush_interval=0.02)
    recorder.header.update({"interface": "wsgi", "server": {"model": "threads"}})
    release = threading.Event()
    arrivals = [Event(req, 10 * ms * req, K.REQUEST_QUEUED, req) for req in range(1, 5)]
    ends = [
        Event(10 + req, 10 * ms * req + 80 * ms * (req > 2), K.REQUEST_END, req, data={})
        for req in range(1, 5)
    ]
    # A later arrival: the second 100 ms is over, so its bar is drawn (the one in progress is not).
    ends.append(Event(20, 210 * ms, K.REQUEST_QUEUED, 5))

    def work(stop: threading.Event) -> None:
        recorder.extend(arrivals)
        release.wait(10)
        recorder.extend(ends)
        stop.wait(10)
        recorder.close()

    app = LiveApp(recorder, work, title="rps")
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: len(app.stats.arrived) == 4)
        await pilot.pause(0.3)
        assert app.stats.rps_series() == []  # the first 100 ms are still going on
        rows = _chart(app)
        assert rows and all(not row.strip() for row in rows), rows
        release.set()
        await _until(pilot, lambda: app.stats.snapshot().completed == 4)
        await pilot.pause(0.3)
        assert app.stats.rps_series() == [20.0, 20.0]
        assert all(row[:2] == "██" and not row[2:].strip() for row in _chart(app)), _chart(app)
        await pilot.press("q")

"""The replay's legend lists the blocked loop only when a recording on screen ran on an event
loop (``TimelineModel.has_loop``, the rule the summary panel follows): a WSGI app on threads
has no loop to block. Beside a loop's recording (compare mode) the entry is back."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pilot_helpers import until as _until
from textual.widgets import Static

from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.tui.app import ReplayApp
from tracer.tui.labels import labels
from tracer.tui.lane import BLOCKED
from tracer.tui.live import LiveApp, LiveScreen
from tracer.tui.palette import GLYPHS

from .conftest import simulated

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def _legend(recordings: list[Recording], lang: str) -> str:
    """The legend's text as drawn at 160x40."""
    app = ReplayApp(recordings, lang=lang)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        legend = app.screen.query_one("#legend", Static)
        rows = [legend.render_line(y).text for y in range(legend.size.height)]
    return " ".join(rows).replace("\N{NO-BREAK SPACE}", " ")


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_wsgi_threads_recording_has_no_blocked_loop_entry(lang: str) -> None:
    """WSGI on threads: the other entries are there, the blocked loop's is not."""
    words = labels(lang)
    legend = await _legend([simulated("threads")], lang)
    assert f"{GLYPHS[BLOCKED] * 2} {words['blocked']}" not in legend, legend
    assert words["blocked"] not in legend, legend
    assert words["queued"] in legend and words["violation"] in legend, legend


async def test_a_loop_beside_threads_keeps_the_blocked_loop_entry() -> None:
    """Compare mode, WSGI threads beside an ASGI loop: the loop's blocks are on screen."""
    legend = await _legend([simulated("threads"), simulated("loop")], "en")
    assert f"{GLYPHS[BLOCKED] * 2} blocked loop" in legend, legend


@pytest.mark.parametrize("model,listed", [("threads", False), ("loop", True)])
async def test_the_live_dashboard_lists_the_blocked_loop_once_it_knows_the_run_has_one(
    model: str, listed: bool, tmp_path: Path
) -> None:
    """The dashboard starts before the app is loaded (the header says nothing yet: the entry is
    there); once the run's header names a WSGI app on threads it goes, and on a loop it stays."""
    recording = simulated(model)
    recorder = Recorder(tmp_path / "run.jsonl", flush_interval=0.02)
    loaded, release = threading.Event(), threading.Event()

    def work(stop: threading.Event) -> None:
        loaded.wait(10)
        recorder.header.update(recording.header)
        recorder.extend(recording.events)
        release.wait(10)
        recorder.close()

    app = LiveApp(recorder, work, title="live legend")
    async with app.run_test(size=(160, 40)) as pilot:
        assert isinstance(app.screen, LiveScreen)
        await pilot.pause()
        assert "blocked loop" in _drawn(app.screen.query_one("#legend", Static))
        loaded.set()
        await _until(pilot, lambda: app.stats.snapshot().completed > 0)
        await pilot.pause(0.3)  # a redraw after the header changed
        assert ("blocked loop" in _drawn(app.screen.query_one("#legend", Static))) is listed
        release.set()
        await _until(pilot, lambda: not isinstance(app.screen, LiveScreen))
        await pilot.press("q")
    assert app.error is None


def _drawn(legend: Static) -> str:
    rows = [legend.render_line(y).text for y in range(legend.size.height)]
    return " ".join(rows).replace("\N{NO-BREAK SPACE}", " ")

"""The end of a run: its replay is built off the UI thread (a big recording's takes seconds).

Meanwhile the dashboard shows the run's final figures and says the replay is coming, and ``q``
closes it at once, without the replay. The loader here waits for the test to let it go, as
loading and modelling a recording of 80,000 requests keeps it busy for many seconds.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pilot_helpers import until
from textual.widgets import Static

from tracer.recorder import Recorder
from tracer.recording import Recording, load
from tracer.tui.live import LiveApp, LiveScreen
from tracer.tui.screen import ReplayScreen

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def _setup(loop_rec: Recording, tmp_path: Path) -> tuple[LiveApp, threading.Event]:
    """A dashboard whose run records ``loop_rec`` and returns at once, and whose loader waits
    (at most 5 s) for the event returned."""
    recorder = Recorder(tmp_path / "run.jsonl", flush_interval=0.02)
    recorder.header.update(loop_rec.header)
    gate = threading.Event()

    def work(stop: threading.Event) -> None:
        recorder.extend(loop_rec.events)
        recorder.close()

    def slow_load(path: str) -> Recording:
        gate.wait(5)
        return load(path)

    app = LiveApp(recorder, work, title="big run", total_requests=8, loader=slow_load)
    return app, gate


def _header(app: LiveApp) -> str:
    return str(app.screen.query_one("#live-header", Static).render())


async def test_the_final_figures_and_the_replay_coming(loop_rec: Recording, tmp_path: Path) -> None:
    """While the replay is built the dashboard keeps drawing: progress 8/8 (every request of
    the run), in flight 0, and a line saying the replay is coming; then the replay."""
    app, gate = _setup(loop_rec, tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.done.is_set())
        await until(pilot, lambda: "progress 8/8" in _header(app) and "replay" in _header(app))
        assert "in flight 0" in _header(app)
        assert isinstance(app.screen, LiveScreen)
        gate.set()
        await until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        await pilot.press("q")
    assert app.error is None


async def test_q_while_the_replay_is_built_closes_without_it(
    loop_rec: Recording, tmp_path: Path
) -> None:
    """q while the loader is still busy: the app exits then (well before the loader's 5 s),
    the replay never shown."""
    app, gate = _setup(loop_rec, tmp_path)
    screens: list[str] = []
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.done.is_set() and "replay" in _header(app))
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, tries=100)
        screens.extend(type(screen).__name__ for screen in app.screen_stack)
    gate.set()
    assert "ReplayScreen" not in screens and not app.replaying
    assert app.error is None

"""The end of a run: its replay is built off the UI thread (a big recording's takes seconds).

Meanwhile the dashboard shows the run's final figures and says the replay is coming, and ``q``
closes it at once, without the replay. The loader here waits for the test to let it go, as
loading and modelling a recording of 80,000 requests keeps it busy for many seconds.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings
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
    (builder,) = [t for t in threading.enumerate() if t.name == "gateway-tracer-replay"]
    gate.set()
    await asyncio.to_thread(builder.join, 10)  # its hand-over finds the app closed
    assert not builder.is_alive()
    assert "ReplayScreen" not in screens and not app.replaying
    assert app.error is None


def test_a_replay_built_after_the_app_and_its_loop_are_gone_is_dropped_quietly(
    loop_rec: Recording, tmp_path: Path
) -> None:
    """q while the replay is built, and the app's event loop closed before the build is over
    (the process going on to its end): the finished build is dropped without a word. No
    coroutine is left unawaited (no RuntimeWarning), nothing is raised in its thread, and the
    thread returns instead of waiting on a loop that will never run again."""
    app, gate = _setup(loop_rec, tmp_path)

    async def run_and_quit() -> None:
        async with app.run_test(size=(120, 30)) as pilot:
            await until(pilot, lambda: app.done.is_set() and "replay" in _header(app))
            await pilot.press("q")
            await until(pilot, lambda: not app.is_running, tries=100)

    asyncio.run(run_and_quit())  # its loop is closed when this returns
    (builder,) = [t for t in threading.enumerate() if t.name == "gateway-tracer-replay"]
    raised: list[BaseException | None] = []
    before = threading.excepthook
    threading.excepthook = lambda args: raised.append(args.exc_value)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gate.set()
            builder.join(10)
            gc.collect()  # a coroutine dropped in a reference cycle warns only when collected
    finally:
        threading.excepthook = before
    assert not builder.is_alive()
    assert [str(w.message) for w in caught] == []
    assert raised == []
    assert not app.replaying


async def test_the_replay_is_built_with_the_collector_paused_then_frozen(
    loop_rec: Recording, tmp_path: Path
) -> None:
    """The whole run's recording is loaded and modelled with the garbage collector paused (its
    collections would walk a big run's millions of objects over and over), which is back on
    once the replay is up, with what was built frozen out of later collections."""
    recorder = Recorder(tmp_path / "run.jsonl", flush_interval=0.02)
    recorder.header.update(loop_rec.header)
    collecting_while_loading: list[bool] = []

    def work(stop: threading.Event) -> None:
        recorder.extend(loop_rec.events)
        recorder.close()

    def watched_load(path: str) -> Recording:
        collecting_while_loading.append(gc.isenabled())
        return load(path)

    gc.unfreeze()  # what earlier tests froze: none frozen before the replay is built
    app = LiveApp(recorder, work, title="run", total_requests=8, loader=watched_load)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        assert collecting_while_loading == [False]
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
        await pilot.press("q")
    assert app.error is None

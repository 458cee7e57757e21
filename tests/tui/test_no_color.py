"""With ``NO_COLOR`` set the replay, its screenshot and the live dashboard draw in monochrome.

Textual reads ``NO_COLOR`` when an app is made and then runs every row through its Monochrome
filter, which fails on a segment with no style at all: a blank row under the lanes, a lane
row's padding or the empty dashboard's placeholder once took the whole app down. Each test
sets the variable before the app is made, then draws what a user would see.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pilot_helpers import until

from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.tui.app import ReplayApp, render_svg
from tracer.tui.live import LiveApp, LiveScreen
from tracer.tui.screen import ReplayScreen

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


@pytest.fixture(autouse=True)
def no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    """``NO_COLOR`` set, as a user who wants no colours has it."""
    monkeypatch.setenv("NO_COLOR", "1")


def test_the_screenshot_of_both_views_is_drawn(threads_rec: Recording) -> None:
    """``--screenshot`` (``render_svg``) of the request view and, after ``v``, the worker
    view: fewer lanes than rows, so blank rows are drawn under them."""
    for keys in ([], ["v"]):
        svg = render_svg([threads_rec], size=(100, 30), keys=keys)
        assert svg.startswith("<svg") and "#1" in svg


async def test_the_replay_takes_its_keys_and_keeps_running(loop_rec: Recording) -> None:
    """The replay (two recordings compared) with a few lanes in a tall window: switching
    views, zooming, the detail pane, the caption, the help and the end all draw, and the app
    is still running."""
    app = ReplayApp([loop_rec, loop_rec])
    async with app.run_test(size=(80, 40)) as pilot:
        await pilot.pause()
        for key in (
            "v",
            "plus",
            "v",
            "enter",
            "escape",
            "minus",
            "c",
            "tab",
            "end",
            "question_mark",
            "escape",
        ):
            await pilot.press(key)
            await pilot.pause()
            assert app.is_running, key
        timeline = app.screen.timeline  # type: ignore[attr-defined]
        assert timeline.render_line(0).text.startswith("#")
        await pilot.press("q")
    assert app.return_code in (0, None)


async def test_a_narrow_dashboard_follows_a_run_then_replays_it(
    threads_rec: Recording, tmp_path: Path
) -> None:
    """The live dashboard in 60x20, empty at first (its placeholder row), then with a few
    requests, then the replay: all of it drawn, no error."""
    recorder = Recorder(tmp_path / "run.jsonl", flush_interval=0.02)
    recorder.header.update(threads_rec.header)
    release = threading.Event()
    half = len(threads_rec.events) // 2

    def work(stop: threading.Event) -> None:
        release.wait(10)
        recorder.extend(threads_rec.events[:half])
        release.wait(10)
        recorder.extend(threads_rec.events[half:])
        recorder.close()

    app = LiveApp(recorder, work, title="no colour")
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause(0.3)  # the empty dashboard is drawn a few times
        assert isinstance(app.screen, LiveScreen) and app.is_running
        release.set()
        await until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        await pilot.pause()
        assert app.is_running
        await pilot.press("q")
    assert app.error is None  # type: ignore[attr-defined]

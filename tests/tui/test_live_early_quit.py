"""The live dashboard never draws on widgets that are not there: q pressed at once, the poll
timer before the screen is mounted, a redraw after the screen closed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.widget import Widget
from textual.widgets import Static

from tracer.recorder import Recorder
from tracer.recording import Recording, load
from tracer.tui.live import LiveApp, LiveScreen

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def _until(pilot: Any, condition: Callable[[], bool], tries: int = 400) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition not reached")


class _EarlyScreen(LiveScreen):
    """A LiveScreen that runs ``hook`` while it composes, before any of its widgets is mounted."""

    def __init__(self, hook: Callable[[LiveScreen], None], *args: Any) -> None:
        super().__init__(*args)
        self.hook = hook

    def compose(self) -> Iterable[Widget]:
        self.hook(self)
        yield from super().compose()


def _app(
    recorder: Recorder, work: Callable[[threading.Event], None], hook: Callable[[LiveScreen], None]
) -> LiveApp:
    app = LiveApp(recorder, work, title="early", total_requests=8)
    # An instance attribute, not a subclass: LiveApp's CSS_PATH is relative to its own module.
    app.get_default_screen = lambda: _EarlyScreen(hook, app.run_title, app.stats, app.labels)  # type: ignore[method-assign]
    return app


def _press_q(screen: LiveScreen) -> None:
    # The key goes through the app's queue and bindings like a real key from the terminal.
    screen.app.post_message(events.Key("q", "q"))


async def test_q_before_the_widgets_are_mounted_stops_cleanly(
    loop_rec: Recording, tmp_path: Path
) -> None:
    """q handled while the screen is still composing: no NoMatches; the run stops and
    flushes; the header, drawn on mount, says it is stopping."""
    path = tmp_path / "run.jsonl"
    recorder = Recorder(path, flush_interval=0.02)
    recorder.header.update(loop_rec.header)
    release = threading.Event()

    def work(stop: threading.Event) -> None:
        recorder.extend(loop_rec.events[:10])
        stop.wait(30)
        release.wait(30)
        recorder.close()

    app = _app(recorder, work, _press_q)
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, app.stop.is_set)
        screen = app.screen
        assert isinstance(screen, LiveScreen) and screen.drawable
        await _until(pilot, lambda: "stopping" in str(screen.query_one("#live-header").render()))
        release.set()
        await _until(pilot, lambda: not app.is_running)
    assert app.error is None and app.return_code in (0, None)
    assert len(load(path).events) == 10


async def test_q_as_the_first_key_of_the_pilot(loop_rec: Recording, tmp_path: Path) -> None:
    """q as soon as the test app is up: exits once the run returned, without an error."""
    recorder = Recorder(tmp_path / "run.jsonl", flush_interval=0.02)
    recorder.header.update(loop_rec.header)

    def work(stop: threading.Event) -> None:
        recorder.extend(loop_rec.events[:5])
        stop.wait(30)
        recorder.close()

    app = LiveApp(recorder, work, title="first key")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("q")
        await _until(pilot, lambda: not app.is_running)
    assert app.error is None and app.stop.is_set()


async def test_a_poll_before_the_widgets_are_mounted_draws_nothing(
    loop_rec: Recording,
) -> None:
    """The poll timer firing during a slow mount (here: called from compose) is a no-op; the
    dashboard is drawn once mounted."""
    recorder = Recorder()
    recorder.header.update(loop_rec.header)
    seen: list[bool] = []

    def poll_now(screen: LiveScreen) -> None:
        seen.append(screen.drawable)
        app.poll()
        screen.redraw()

    def work(stop: threading.Event) -> None:
        stop.wait(30)

    app = _app(recorder, work, poll_now)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        await _until(pilot, lambda: "early" in str(screen.query_one("#live-header").render()))
        await pilot.press("q")
        await _until(pilot, lambda: not app.is_running)
    assert seen == [False]
    assert app.error is None


async def test_a_redraw_after_the_screen_closed_is_a_no_op(loop_rec: Recording) -> None:
    """Once the app has exited (its widgets removed), redraw and request_stop do not raise."""
    recorder = Recorder()
    recorder.header.update(loop_rec.header)

    def work(stop: threading.Event) -> None:
        stop.wait(30)

    app = LiveApp(recorder, work, title="closed")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        assert isinstance(screen.query_one("#live-header"), Static)
        await pilot.press("q")
        await _until(pilot, lambda: not app.is_running)
    assert not screen.drawable
    recorder.extend(loop_rec.events[:3])
    screen.redraw()

"""Ctrl-C quits from the help screen too, as the help says (``q ctrl+c  quit``), in the
replay and in the replay the live dashboard becomes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pilot_helpers import until as _until

from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.tui.app import ReplayApp
from tracer.tui.help import HelpScreen
from tracer.tui.live import LiveApp
from tracer.tui.screen import ReplayScreen

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_ctrl_c_on_the_help_screen_quits_the_replay(loop_rec: Recording) -> None:
    """? opens the help; ctrl+c there ends the app, as on the replay screen."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("ctrl+c")
        await _until(pilot, lambda: not app.is_running)


async def test_ctrl_c_on_the_help_screen_quits_the_live_replay(
    loop_rec: Recording, tmp_path: Path
) -> None:
    """The same once a live run has become its replay."""
    recorder = Recorder(tmp_path / "run.jsonl", flush_interval=0.02)
    recorder.header.update(loop_rec.header)

    def work(stop: threading.Event) -> None:
        recorder.extend(loop_rec.events)
        recorder.close()

    app = LiveApp(recorder, work, title="help")
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("ctrl+c")
        await _until(pilot, lambda: not app.is_running)
    assert app.error is None

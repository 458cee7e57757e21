"""``q`` pressed twice as the dashboard starts: the second exits at once, and the screen,
still mounting, draws nothing on widgets that are going away (no ``NoMatches``)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from pilot_helpers import until
from textual import events
from textual.widget import Widget

from tracer.recorder import Recorder
from tracer.recording import Recording, load
from tracer.tui.live import LiveApp, LiveScreen

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


class _QQScreen(LiveScreen):
    """A LiveScreen whose compose posts two ``q`` keys, as from the terminal, before its
    widgets are mounted."""

    def compose(self) -> Iterable[Widget]:
        for _ in range(2):
            self.app.post_message(events.Key("q", "q"))
        yield from super().compose()


async def test_q_q_while_the_screen_mounts_exits_cleanly(
    loop_rec: Recording, tmp_path: Path
) -> None:
    """Both keys are handled before the screen's ``on_mount``: the app exits without an
    error, the run is stopped and its recording complete."""
    path = tmp_path / "run.jsonl"
    recorder = Recorder(path, flush_interval=0.02)
    recorder.header.update(loop_rec.header)

    def work(stop: threading.Event) -> None:
        recorder.extend(loop_rec.events[:10])
        stop.wait(30)
        recorder.close()

    app = LiveApp(recorder, work, title="qq", total_requests=8)
    app.get_default_screen = lambda: _QQScreen(app.run_title, app.stats, app.labels)  # type: ignore[method-assign]
    failures: list[Any] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: not app.is_running)
    failures.extend(app._exit_renderables)
    assert failures == []
    assert app.return_code in (0, None)
    app.stop.set()
    app._thread.join(30)
    assert app.error is None
    assert len(load(path).events) == 10

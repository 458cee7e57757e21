"""The live header's clock and the recent lanes' right edge follow the run's wall time, not
the latest event: a run whose events pause (slow responses, a blocked loop) does not look
frozen. The recorder's clock is injected, so the test says what time it is."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pilot_helpers import until as _until
from textual.widgets import Static

from tracer import events as K
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.tui.live import LiveApp, LiveScreen
from tracer.tui.timeline import Timeline

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

MS = 1_000_000


async def test_the_clock_goes_on_while_no_event_comes(tmp_path: Path) -> None:
    """Two requests sent at 10 ms, their 4 s responses not yet in: at 2.5 s of the run the
    header reads 2500ms (not 10ms, the latest event) and the lanes end at 2.5 s."""
    now = [1_000 * MS]
    recorder = Recorder(tmp_path / "run.jsonl", clock=lambda: now[0], flush_interval=0.02)
    sent = threading.Event()

    def work(stop: threading.Event) -> None:
        recorder.extend(
            [
                Event(0, 10 * MS, K.REQUEST_QUEUED, 1),
                Event(1, 10 * MS, K.REQUEST_QUEUED, 2),
                Event(2, 10 * MS, K.REQUEST_START, 1, data={"scope_type": "http"}),
            ]
        )
        sent.set()
        stop.wait(30)
        recorder.close()

    app = LiveApp(recorder, work, title="slow")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        await _until(pilot, lambda: sent.is_set() and app.stats.latest == 10 * MS)
        now[0] += 2_500 * MS
        header = screen.query_one("#live-header", Static)
        # The clock comes first, after "live": a narrow terminal cuts the rows' ends.
        await _until(pilot, lambda: "live  2500ms" in str(header.render()).splitlines()[0])
        assert screen.viewport.t_max == 2_500 * MS
        assert screen.query_one("#recent", Timeline).lanes
        await pilot.press("q")

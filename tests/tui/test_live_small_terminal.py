"""The live dashboard on small terminals: rows are cut, never wrapped, and what matters most
comes first on the header's rows.

At 80x24 the header keeps p99 (on a third row) and the clock; at 40x15 every latency histogram row stays one
row (a wrapped row put its count on a line of its own, read as the next row's label); the
recent lanes never need a scrollbar (there are no more of them than rows), whose partial
blocks looked like the on-CPU bars.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pilot_helpers import until
from textual.widgets import Static

from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.tui.live import LiveApp, LiveScreen
from tracer.tui.timeline import Timeline

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def _rows(widget: Static) -> list[str]:
    """The widget's rows as drawn on screen."""
    return [widget.render_line(y).text.rstrip() for y in range(widget.size.height)]


async def _shown(sim_loop: Recording, tmp_path: Path, size: tuple[int, int]) -> LiveApp:
    recorder = Recorder(tmp_path / "run.jsonl", flush_interval=0.02)
    recorder.header.update(sim_loop.header)
    return LiveApp(recorder, _work(recorder, sim_loop), title="small", total_requests=40)


def _work(recorder: Recorder, recording: Recording):  # type: ignore[no-untyped-def]
    def work(stop: threading.Event) -> None:
        recorder.extend(recording.events)
        stop.wait(30)
        recorder.close()

    return work


@pytest.mark.parametrize("size", [(80, 24), (40, 15)])
async def test_rows_are_cut_not_wrapped(
    sim_loop: Recording, tmp_path: Path, size: tuple[int, int]
) -> None:
    """Each histogram row is one screen row holding its unit and its count; the recent lanes
    fit their rows."""
    app = await _shown(sim_loop, tmp_path, size)
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        await until(pilot, lambda: app.stats.snapshot().completed > 0)
        await pilot.pause(0.3)
        histogram = screen.query_one("#histogram", Static)
        rows = [row for row in _rows(histogram)[1:] if row.strip()]
        assert rows
        assert all("ms" in row for row in rows), rows
        recent = screen.query_one("#recent", Timeline)
        assert 0 < len(recent.lanes) <= recent.size.height
        # Cut at the bottom, not scrolled: no scrollbar's blocks beside the legend.
        assert not screen.scrollbars_enabled[0]
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)


async def test_80x24_keeps_p99_and_the_clock(sim_loop: Recording, tmp_path: Path) -> None:
    """At 80 columns the header's rows still show p99 and the clock."""
    app = await _shown(sim_loop, tmp_path, (80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        await until(pilot, lambda: app.stats.snapshot().completed > 0)
        await pilot.pause(0.3)
        header = _rows(screen.query_one("#live-header", Static))
        assert "p99" in " ".join(header[1:]), header  # the third row's, at 80 columns
        assert "ms" in header[0].split("live")[1].split()[0], header
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)

"""The live dashboard's header shows every figure at 80 columns, in English and in Chinese.

Its second row (progress, errors, in flight, queued, p50/p95/p99 and the rate) needs about 90
cells: at 80x24 it ended ``p99 3…`` and the rate never showed. Where it does not fit, the
percentiles and the rate now take a third row.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pilot_helpers import until
from rich.cells import cell_len
from textual.widgets import Static

from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.tui.labels import labels
from tracer.tui.live import LiveApp, LiveScreen

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def _rows(widget: Static) -> list[str]:
    return [widget.render_line(y).text.rstrip() for y in range(widget.size.height)]


async def _header_at(
    sim_threads: Recording, tmp_path: Path, lang: str, size: tuple[int, int]
) -> list[str]:
    """The header's rows as drawn at ``size`` once the run's requests are all in."""
    recorder = Recorder(tmp_path / f"run-{lang}.jsonl", flush_interval=0.02)
    recorder.header.update(sim_threads.header)

    def work(stop: threading.Event) -> None:
        recorder.extend(sim_threads.events)
        stop.wait(30)
        recorder.close()

    total = len({e.req for e in sim_threads.events if e.req is not None})
    app = LiveApp(recorder, work, title="width", total_requests=total, lang=lang)
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        await until(pilot, lambda: app.stats.snapshot().completed == total)
        await pilot.pause(0.3)
        rows = _rows(screen.query_one("#live-header", Static))
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    return rows


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_80_columns_show_every_figure_uncut(
    sim_threads: Recording, tmp_path: Path, lang: str
) -> None:
    """At 80x24 every figure is there and no row is cut: the rate included."""
    words = labels(lang)
    rows = await _header_at(sim_threads, tmp_path, lang, (80, 24))
    assert len(rows) == 3, rows
    assert all(cell_len(row) <= 80 and not row.endswith("…") for row in rows[1:]), rows
    figures = " ".join(rows[1:])
    for word in (words["progress"], words["errors"], words["in_flight"], words["queued"]):
        assert f"{word} " in figures, (word, rows)
    assert "p50 " in figures and "p95 " in figures and "p99 " in figures, rows
    assert f"{words['rps']} " in rows[-1], rows


async def test_a_wide_terminal_keeps_two_rows(sim_threads: Recording, tmp_path: Path) -> None:
    """At 120 columns the figures share the second row, as they always did."""
    rows = await _header_at(sim_threads, tmp_path, "en", (120, 30))
    assert len(rows) == 2 and "errors " in rows[1] and "rps " in rows[1], rows

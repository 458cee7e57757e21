"""The legend wraps between entries, never between an entry's glyph and its name."""

from __future__ import annotations

from typing import Any

import pytest

from tracer.recording import Recording
from tracer.tui.app import ReplayApp
from tracer.tui.labels import labels
from tracer.tui.lane import LEGEND_ORDER, PHASE_NAMES
from tracer.tui.palette import GLYPHS, MARKER_GLYPH

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

WIDTHS = (40, 50, 60, 66, 77, 80, 100)


def _legend_rows(app: Any) -> list[str]:
    legend = app.screen.query_one("#legend")
    return [
        legend.render_line(y).text.replace("\xa0", " ").rstrip() for y in range(legend.size.height)
    ]


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_every_entry_is_whole_on_one_row_at_any_width(loop_rec: Recording, lang: str) -> None:
    """At each width every entry ("▓▓ sending", "! 违规") is on one row, in order, and the rows
    hold nothing else: a row never ends in a glyph whose name is on the next."""
    words = labels(lang)
    entries = [f"{GLYPHS[code] * 2} {words[PHASE_NAMES[code]]}" for code in LEGEND_ORDER]
    entries += [f"▂▅█ {words['cpu_share']}", f"{MARKER_GLYPH} {words['violation']}"]
    app = ReplayApp([loop_rec], lang=lang)
    async with app.run_test(size=(WIDTHS[-1], 30)) as pilot:
        for width in WIDTHS:
            await pilot.resize_terminal(width, 30)
            await pilot.pause()
            rows = _legend_rows(app)
            assert all(rows), rows
            found = [part for row in rows for part in row.strip().split("  ")]
            assert found == entries, (width, rows)

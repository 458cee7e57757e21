"""The legend names every phase, in the UI's language."""

from __future__ import annotations

import io

from tracer.tui.labels import labels
from tracer.tui.lane import LEGEND_ORDER, PHASE_NAMES
from tracer.tui.legend import legend_text
from tracer.tui.palette import GLYPHS


def test_every_phase_is_in_the_legend() -> None:
    """Each phase appears with its glyph and name; violations and CPU share are explained."""
    for lang in ("en", "zh"):
        words = labels(lang)
        text = legend_text(words).plain
        for code in LEGEND_ORDER:
            assert f"{GLYPHS[code] * 2} {words[PHASE_NAMES[code]]}" in text
        assert f"! {words['violation']}" in text and words["cpu_share"] in text


def test_a_narrow_legend_wraps_between_entries_only() -> None:
    """At 80 columns the legend takes two rows and no entry is split or cut off."""
    from rich.console import Console

    console = Console(width=78, record=True, file=io.StringIO())
    console.print(legend_text(labels("en"), width=78))
    rows = console.export_text().splitlines()
    assert len(rows) == 2
    assert rows[-1].rstrip().endswith("violation")
    for entry in ("on CPU", "blocked loop"):
        assert sum(entry in row for row in rows) == 1

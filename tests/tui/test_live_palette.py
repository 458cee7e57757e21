"""Every phase keeps a glyph of its own, so the live dashboard, the replay and screenshots
tell the phases apart with ``NO_COLOR`` set, where every colour is a grey."""

from __future__ import annotations

import pytest
from rich.console import Console

from tracer.tui.labels import labels
from tracer.tui.lane import BLOCKED, LEGEND_ORDER, PHASE_NAMES, RUNNING
from tracer.tui.legend import legend_text
from tracer.tui.palette import GLYPHS, IN_FLIGHT_GLYPH


def test_no_two_phases_share_a_glyph() -> None:
    """One glyph per phase (blocked is not running's full block), none the live view's
    in-flight hatching."""
    assert len(set(GLYPHS.values())) == len(GLYPHS)
    assert GLYPHS[BLOCKED] != GLYPHS[RUNNING]
    assert IN_FLIGHT_GLYPH not in GLYPHS.values()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_monochrome_legend_names_each_glyph_once(lang: str) -> None:
    """The legend printed without colour: each phase's pair of glyphs appears once, before
    its name, so a reader can match a lane's cells to a phase by shape alone."""
    words = labels(lang)
    console = Console(width=300, no_color=True, color_system=None, record=True)
    console.print(legend_text(words))
    plain = console.export_text()
    for code in LEGEND_ORDER:
        pair = GLYPHS[code] * 2
        assert plain.count(pair) == 1, (pair, plain)
        assert f"{pair} {words[PHASE_NAMES[code]]}" in plain

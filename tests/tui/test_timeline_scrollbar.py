"""The timeline's scrollbar draws no glyph a lane could mean: Textual's default ends its thumb
with ``▁ ▂ ▅``, the glyphs of a thread's share of the CPU, beside the lanes."""

from __future__ import annotations

import pytest
from rich.console import Console

from tracer.recording import Recording
from tracer.tui.app import ReplayApp
from tracer.tui.lane_strip import SHARE_GLYPHS
from tracer.tui.palette import COLOURS
from tracer.tui.timeline import Timeline

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_the_scrollbar_draws_no_phase_glyph_or_colour(threads_rec: Recording) -> None:
    """At every scroll offset of a timeline with more lanes than rows: blank cells only, in no
    phase's colour."""
    app = ReplayApp([threads_rec])
    async with app.run_test(size=(100, 14)) as pilot:
        await pilot.pause()
        timeline = app.screen.query_one(Timeline)
        assert timeline.max_scroll_y > 0, "the lanes fit: no scrollbar to look at"
        bar = timeline.vertical_scrollbar
        height = bar.size.height
        console = Console(width=1, height=height, color_system="truecolor")
        seen_thumb = False
        for y in range(int(timeline.max_scroll_y) + 1):
            timeline.scroll_to(y=y, animate=False)
            await pilot.pause()
            lines = console.render_lines(bar.render(), console.options.update(height=height))
            for line in lines:
                for segment in line:
                    assert not set(segment.text) & set(SHARE_GLYPHS[1:]), (y, segment.text)
                    style = segment.style
                    for colour in (style.color, style.bgcolor) if style else ():
                        if colour is not None:
                            hex_ = colour.get_truecolor().hex.lower()
                            assert hex_ not in {c.lower() for c in COLOURS.values()}, (y, hex_)
                            seen_thumb = True
        assert seen_thumb

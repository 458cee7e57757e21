"""The caption pane: a caption longer than its lines shows it is cut, and ``c`` shows it whole."""

from __future__ import annotations

from typing import Any

import pytest

from tracer.recording import Recording
from tracer.tui.app import ReplayApp

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

LONG = " ".join(f"Sentence {i} of a caption that says a lot about the run." for i in range(1, 10))
"""About 500 characters: 7 lines at 80 columns, 5 at 120."""


def _shown(app: Any) -> list[str]:
    """The caption pane's lines as drawn, without the padding."""
    pane = app.screen.query_one("#caption")
    return [pane.render_line(y).text.strip() for y in range(pane.size.height)]


async def test_a_cut_caption_ends_in_an_ellipsis_and_c_shows_it_whole(loop_rec: Recording) -> None:
    """80 columns: five lines, the last ending in "…" and the key that shows the rest; c shows
    every line (the last sentence too), c again the five."""
    app = ReplayApp([loop_rec], caption=LONG)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        lines = _shown(app)
        assert len(lines) == 5
        assert "…" in lines[-1] and lines[-1].endswith("c: more"), lines
        assert "Sentence 9" not in " ".join(lines)
        await pilot.press("c")
        await pilot.pause()
        lines = _shown(app)
        assert len(lines) == 7 and " ".join(lines).endswith(
            "Sentence 9 of a caption that says a lot about the run."
        )
        assert "…" not in " ".join(lines)
        await pilot.press("c")
        await pilot.pause()
        assert len(_shown(app)) == 5 and "…" in _shown(app)[-1]


async def test_a_caption_that_fits_is_shown_as_written(loop_rec: Recording) -> None:
    """120 columns: the same caption fits in five lines, no ellipsis; c changes nothing."""
    app = ReplayApp([loop_rec], caption=LONG)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        lines = _shown(app)
        assert len(lines) == 5 and "…" not in " ".join(lines)
        assert " ".join(lines).endswith("says a lot about the run.")
        await pilot.press("c")
        await pilot.pause()
        assert _shown(app) == lines


async def test_resizing_cuts_the_caption_or_shows_it_again(loop_rec: Recording) -> None:
    """Wide, it fits; resized to 80 columns it is cut, with the ellipsis; back to 120 it is
    whole again (measured at the new width, not the old)."""
    app = ReplayApp([loop_rec], caption=LONG)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        wide = _shown(app)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        lines = _shown(app)
        assert len(lines) == 5 and lines[-1].endswith("c: more"), lines
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert _shown(app) == wide


async def test_a_bookmark_caption_is_cut_the_same_way(loop_rec: Recording) -> None:
    """m shows a bookmark's caption in the same pane, cut the same way when long."""
    app = ReplayApp([loop_rec], bookmarks=[(loop_rec.events[-1].t // 2, "one", LONG)])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m")
        await pilot.pause()
        lines = _shown(app)
        assert lines[0].startswith("one: Sentence 1") and lines[-1].endswith("c: more"), lines

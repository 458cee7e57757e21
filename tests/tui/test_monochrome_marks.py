"""In monochrome (``NO_COLOR``) every mark the replay draws is told by its glyph, and the
legend on screen says each glyph drawn, in English and in Chinese.

The demo's blocking side (a loop blocked by ``time.sleep``: queued and blocked lanes) and a run whose client gave up (abandoned work, errors) are
replayed with ``NO_COLOR`` set, as a user who wants no colours runs them; the rows are read
as the terminal gets them (``render_line``: the cells' characters), not from the styles.
"""

from __future__ import annotations

import pytest

from tracer.demos import SCENARIOS, run_demo
from tracer.recording import Recording
from tracer.tui.app import ReplayApp
from tracer.tui.labels import labels
from tracer.tui.lane import ABANDONED, BLOCKED, ERROR, PHASE_NAMES, QUEUED
from tracer.tui.palette import GLYPHS

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


@pytest.fixture(autouse=True)
def no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    """``NO_COLOR`` set before each app is made (Textual reads it then)."""
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture(scope="module")
def blocking_call() -> list[Recording]:
    """The blocking-call demo's two simulated recordings."""
    return list(run_demo(SCENARIOS["blocking-call"], simulated=True).recordings)


async def _screen(recordings: list[Recording], lang: str) -> tuple[list[str], str, bool]:
    """The timeline's rows, the legend's text and whether the app ran in monochrome."""
    app = ReplayApp(recordings, lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        timeline = app.screen.timeline  # type: ignore[attr-defined]
        rows = [timeline.render_line(y).text for y in range(timeline.size.height)]
        legend = app.screen.query_one("#legend")
        text = legend.render().plain  # type: ignore[union-attr]
        monochrome = app.no_color
        await pilot.press("q")
    return rows, text, monochrome


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_blocked_loop_is_its_glyph_and_the_legend_says_so(
    blocking_call: list[Recording], lang: str
) -> None:
    """The blocking side's lanes (the first timeline) queue (``░``) then hold the loop
    (``▚``); the legend pairs each of those glyphs with its name."""
    rows, legend, monochrome = await _screen(blocking_call, lang)
    assert monochrome
    words = labels(lang)
    drawn = "".join(rows)
    for code in (QUEUED, BLOCKED):
        assert GLYPHS[code] in drawn, code
        assert f"{GLYPHS[code] * 2} {words[PHASE_NAMES[code]]}" in legend, code


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_abandoned_work_and_errors_are_their_glyphs_and_the_legend_says_so(
    timed_out_rec: Recording, lang: str
) -> None:
    """A client that gave up: its ``✖`` where it left, the app's work after it dashed
    (``╌``, not waiting's ``─``), both named in the legend."""
    rows, legend, _ = await _screen([timed_out_rec], lang)
    words = labels(lang)
    lanes = [row for row in rows if row.startswith("#1 ") or row.startswith("#2 ")]
    assert len(lanes) == 2
    for row in lanes:
        assert GLYPHS[ERROR] in row and GLYPHS[ABANDONED] in row
        # The dashes come after the cross: the work went on for nobody.
        assert row.index(GLYPHS[ERROR]) < row.rindex(GLYPHS[ABANDONED])
    assert f"{GLYPHS[ABANDONED] * 2} {words['abandoned']}" in legend
    assert f"{GLYPHS[ERROR] * 2} {words['error']}" in legend

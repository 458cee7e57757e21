"""The replay's legend lists the blocked loop only when a recording on screen ran on an event
loop (``TimelineModel.has_loop``, the rule the summary panel follows): a WSGI app on threads
has no loop to block. Beside a loop's recording (compare mode) the entry is back."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from tracer.recording import Recording
from tracer.tui.app import ReplayApp
from tracer.tui.labels import labels
from tracer.tui.lane import BLOCKED
from tracer.tui.palette import GLYPHS

from .conftest import simulated

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def _legend(recordings: list[Recording], lang: str) -> str:
    """The legend's text as drawn at 160x40."""
    app = ReplayApp(recordings, lang=lang)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        legend = app.screen.query_one("#legend", Static)
        rows = [legend.render_line(y).text for y in range(legend.size.height)]
    return " ".join(rows).replace("\N{NO-BREAK SPACE}", " ")


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_wsgi_threads_recording_has_no_blocked_loop_entry(lang: str) -> None:
    """WSGI on threads: the other entries are there, the blocked loop's is not."""
    words = labels(lang)
    legend = await _legend([simulated("threads")], lang)
    assert f"{GLYPHS[BLOCKED] * 2} {words['blocked']}" not in legend, legend
    assert words["blocked"] not in legend, legend
    assert words["queued"] in legend and words["violation"] in legend, legend


async def test_a_loop_beside_threads_keeps_the_blocked_loop_entry() -> None:
    """Compare mode, WSGI threads beside an ASGI loop: the loop's blocks are on screen."""
    legend = await _legend([simulated("threads"), simulated("loop")], "en")
    assert f"{GLYPHS[BLOCKED] * 2} blocked loop" in legend, legend

"""The help screen on a narrow terminal wraps what a key does, never cuts it.

Chinese has no spaces to wrap at: at 40 columns a phrase longer than its column was cut and
the rest wrapped (``切换视图：按…`` then ``/ 按工作线程``).
"""

from __future__ import annotations

import pytest
from textual.widgets import Static

from tracer.tui.app import ReplayApp
from tracer.tui.examples import threads_example
from tracer.tui.help import KEYS, HelpScreen
from tracer.tui.labels import labels

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_every_entry_is_whole_at_40_columns(lang: str) -> None:
    """Every row of the help table as drawn at 40x60: none ends in an ellipsis, and the text
    of each entry is all there, read down its column."""
    app = ReplayApp([threads_example(10, 4)], lang=lang)
    async with app.run_test(size=(40, 60)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query(Static)[1]
        rows = [table.render_line(y).text.rstrip() for y in range(table.size.height)]
        await pilot.press("escape")
    assert rows and not any("…" in row for row in rows), rows
    start = max(len(key.shown) for key in KEYS) + 2  # the keys' column and its padding
    column = "".join(row[start:].replace(" ", "") for row in rows)
    for key in KEYS:
        assert labels(lang)[key.label].replace(" ", "") in column, key.label

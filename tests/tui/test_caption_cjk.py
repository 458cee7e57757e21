"""A Chinese caption wraps between characters, keeps a number with its unit and obeys simple
kinsoku (no line starts with closing punctuation, none ends with opening punctuation)."""

from __future__ import annotations

from typing import Any

import pytest

from tracer.demos.concurrency import BLOCKING_CALL, THREADPOOL_OFFLOAD
from tracer.demos.protocols import C10K
from tracer.recording import Recording
from tracer.tui.app import ReplayApp

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

CLOSING = "。，、；：！？）」』》"
OPENING = "（「『《"


def _shown(app: Any) -> list[str]:
    pane = app.screen.query_one("#caption")
    return [pane.render_line(y).text.rstrip() for y in range(pane.size.height)]


def _check(lines: list[str], width: int) -> None:
    from rich.cells import cell_len

    for before, line in zip(["", *lines], lines, strict=False):
        assert line, lines
        assert line[0] not in CLOSING, lines
        assert not before or before[-1] not in OPENING, lines
        # A number ends no line when a unit follows it on the next one.
        assert not (before[-1:].isdigit() and line.lstrip()[:1] in "秒毫个倍"), lines
        assert cell_len(line) <= width


@pytest.mark.parametrize("scenario", [BLOCKING_CALL, C10K, THREADPOOL_OFFLOAD])
async def test_a_chinese_caption_fills_its_lines(loop_rec: Recording, scenario: Any) -> None:
    """80 columns: each line but the last is nearly full (a Chinese sentence has no spaces
    to wait for), the text reads on unchanged across the lines, numbers keep their units."""
    caption = scenario.texts["zh"]["caption"]
    app = ReplayApp([loop_rec], caption=caption, lang="zh")
    async with app.run_test(size=(80, 40)) as pilot:
        await pilot.press("c")  # the whole caption
        await pilot.pause()
        lines = _shown(app)
        width = app.screen.query_one("#caption").content_size.width
        _check(lines, width)
        from rich.cells import cell_len

        assert all(cell_len(line) >= width - 12 for line in lines[:-1]), lines
        assert "".join(lines).replace(" ", "") == caption.replace(" ", "")


async def test_the_caption_of_blocking_call_starts_with_a_full_line(loop_rec: Recording) -> None:
    """The first line was only "上：在 async def 里调用", the second cut "阻\\n塞"."""
    caption = BLOCKING_CALL.texts["zh"]["caption"]
    app = ReplayApp([loop_rec], caption=caption, lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        lines = _shown(app)
        assert lines[0].startswith("上：在 async def 里调用 time.sleep(0.1)。事件循环"), lines
        _check(lines[:-1], 80)

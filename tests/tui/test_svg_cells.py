"""Screenshots size each text run by its terminal cells (tracer.tui.svg_cells).

Rich's ``Console.export_svg`` writes ``textLength`` as characters x cell width
(Textualize/rich#2742): a browser honouring it squeezes a CJK glyph, two cells wide, into one.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from rich.cells import cell_len

from tracer.recording import Recording
from tracer.tui.app import ReplayApp, render_svg
from tracer.tui.svg_cells import cell_text_lengths

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

_TEXT = re.compile(r'<text [^>]*?textLength="([^"]*)"[^>]*>([^<]*)</text>')


def _runs(svg: str) -> list[tuple[float, str]]:
    """Each sized text run but Rich's line ends (a "\n" each, no cells): textLength, text."""
    runs = [(float(length), html.unescape(text)) for length, text in _TEXT.findall(svg)]
    return [(length, text) for length, text in runs if text != "\n"]


def _assert_sized_by_cells(svg: str) -> None:
    runs = _runs(svg)
    # Rich's cell width, from a run of single-width characters.
    cell = next(length / len(text) for length, text in runs if cell_len(text) == len(text))
    wide = [(length, text) for length, text in runs if cell_len(text) != len(text)]
    assert wide, "no CJK text in the screenshot"
    for length, text in runs:
        assert abs(length - cell * cell_len(text)) < 1e-3, (length, text)


def test_a_chinese_render_is_sized_in_cells(loop_rec: Recording) -> None:
    """``trace replay --screenshot`` and ``trace demo --screenshot`` (render_svg), in Chinese:
    every run's textLength is its cells x the cell width."""
    _assert_sized_by_cells(render_svg([loop_rec], size=(100, 30), lang="zh"))


async def test_s_saves_a_chinese_screenshot_sized_in_cells(
    loop_rec: Recording, tmp_path: Path
) -> None:
    """The ``s`` key's file, too."""
    app = ReplayApp([loop_rec], lang="zh", screenshot_dir=str(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("s")
        await pilot.pause()
    (shot,) = tmp_path.glob("*.svg")
    _assert_sized_by_cells(shot.read_text(encoding="utf-8"))


async def test_single_width_screenshots_are_unchanged(loop_rec: Recording) -> None:
    """Nothing two cells wide on screen (box drawing, blocks, "…" are one): byte for byte
    what Textual exported."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        svg = app.export_screenshot()
    assert all(cell_len(text) == len(text) for _, text in _runs(svg))
    assert cell_text_lengths(svg) == svg


def test_escaped_text_is_measured_as_shown() -> None:
    """Entities count as the one character they stand for; runs with no textLength (the
    window title) and single-width runs are left as they are."""
    width = 12.2
    runs = ["中&文 ", '<a> & "b"', "你好"]
    escaped = [html.escape(run).replace(" ", "&#160;") for run in runs]
    svg = "".join(
        f'<text class="r1" x="0" y="20" textLength="{format(width * len(run), "g")}" '
        f'clip-path="url(#line-0)">{text}</text>'
        for run, text in zip(runs, escaped, strict=True)
    )
    tail = (
        '<text class="r1" x="0" y="20" textLength="12.2" clip-path="url(#line-0)">\n</text>'
        '<text class="title" fill="#c5c8c6" x="60" y="27">标题</text>'
    )
    fixed = cell_text_lengths(svg + tail)
    assert [length for length, _ in _runs(fixed)] == [73.2, 109.8, 48.8]
    assert [text.replace("\xa0", " ") for _, text in _runs(fixed)] == runs
    assert fixed.endswith(tail)


_FETCHED = re.compile(r'url\("?https?://')


async def test_screenshots_fetch_no_fonts(loop_rec: Recording, tmp_path: Path) -> None:
    """``--screenshot`` (render_svg) and the ``s`` key's file name no web font (Rich's
    ``@font-face`` rules point at a CDN: offline, a browser waits for them): the local font
    stays, and the SVG is still well-formed."""
    import xml.etree.ElementTree as ET

    rendered = render_svg([loop_rec], size=(100, 30))
    app = ReplayApp([loop_rec], screenshot_dir=str(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        exported = app.export_screenshot()
        await pilot.press("s")
        await pilot.pause()
    (shot,) = tmp_path.glob("*.svg")
    assert _FETCHED.search(exported)  # what Textual writes
    for svg in (rendered, shot.read_text(encoding="utf-8")):
        assert not _FETCHED.search(svg)
        assert 'src: local("FiraCode-Regular");' in svg
        ET.fromstring(svg)


def test_the_status_line_draws_no_glyph_fonts_lack(loop_rec: Recording) -> None:
    """Paused reads "‖ paused": "⏸" (U+23F8) is an empty box in common monospace fonts."""
    svg = render_svg([loop_rec], size=(100, 30))
    assert "⏸" not in svg and "‖&#160;paused" in svg

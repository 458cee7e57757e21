"""Chinese text of the UI: no space beside full-width punctuation, and a line cut at the edge
of the screen never ends in an opening bracket (``ASGI loop（ …``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import Static

import tracer.tui
from tracer.demos import SCENARIOS, run_demo
from tracer.recording import Recording
from tracer.tui.app import ReplayApp
from tracer.tui.help import HelpScreen
from tracer.tui.labels import LABELS
from tracer.tui.one_line import OPENING, cut_to
from tracer.tui.summary_panel import SummaryPanel

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

FULL_WIDTH = "，；：（）。、"
SPACED = re.compile(f"[ \u3000][{FULL_WIDTH}]|[{FULL_WIDTH}][ \u3000]")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _source_strings() -> list[tuple[str, int, str]]:
    """Every string literal with Chinese in it under ``tracer/tui`` (file, line, text)."""
    found = []
    for path in sorted(Path(tracer.tui.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if CJK.search(node.value):
                    found.append((path.name, node.lineno, node.value))
    return found


def test_no_label_has_a_space_beside_full_width_punctuation() -> None:
    """The label tables, every language's (a space after ``；`` read as a gap in the help)."""
    spaced = {
        (lang, key): text
        for lang, table in LABELS.items()
        for key, text in table.items()
        if SPACED.search(text)
    }
    assert spaced == {}


def test_no_chinese_string_of_the_ui_has_one_either() -> None:
    """Every Chinese string literal under tracer/tui, label tables or not."""
    strings = _source_strings()
    assert any(text.startswith("鼠标：") for _, _, text in strings)  # the labels are read
    assert [s for s in strings if SPACED.search(s[2])] == []


def test_a_cut_never_ends_in_an_opening_bracket() -> None:
    """At every width, a cut title ends in ``…`` right after a character that opens nothing,
    and never with the space a split wide character leaves."""
    title = Text("2 个进程：sim:cpu · WSGI processes（模拟）「甲」(b)")
    for width in range(2, title.cell_len):
        cut = cut_to(title, width).plain
        assert cut.endswith("…") and len(cut) >= 2, (width, cut)
        assert cut[-2] not in OPENING and not cut[-2].isspace(), (width, cut)
        assert Text(cut).cell_len <= width


def _panel_titles(app: ReplayApp) -> list[str]:
    return [panel.render_line(0).text.rstrip() for panel in app.screen.query(SummaryPanel)]


async def test_titles_cut_at_80_columns_end_before_the_bracket() -> None:
    """``trace demo cpu-gil --sim --lang zh`` at 80x24: the second side's title, cut in the
    half of the screen its panel has, ends ``WSGI processes…``, not ``WSGI processes（ …``."""
    demo = run_demo(SCENARIOS["cpu-gil"], simulated=True, lang="zh")
    app = ReplayApp(demo.recordings, caption=demo.caption, lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        titles = _panel_titles(app)
        lane_titles = [
            title.render_line(0).text.rstrip() for title in app.screen.query(".lane-title")
        ]
    full = demo.recordings[1].title_in("zh")
    assert "（" in full and titles[1] != full  # the cut this test is about happened
    assert titles[1].endswith("WSGI processes…"), titles
    for title in [*titles, *lane_titles]:
        assert title.endswith("…") or title in {r.title_in("zh") for r in demo.recordings}
        assert not re.search(f"[{re.escape(OPENING)}] *…$", title), title
        assert " …" not in title, title


async def test_the_chinese_help_wraps_the_mouse_note_between_clauses() -> None:
    """The help at 80x24 in Chinese: the mouse note has no space after its semicolons, and
    its lines break after one (never inside ``ctrl``), each clause whole on its line."""
    app = ReplayApp(demo_free_recording(), lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        note = app.screen.query(Static)[2]
        rows = [note.render_line(y).text.strip() for y in range(note.size.height)]
    mouse = LABELS["zh"]["mouse"]
    lines = [row for row in rows if row and row in mouse]
    assert "".join(lines) == mouse, rows
    for line in lines[:-1]:
        assert line.endswith("；"), lines
    for clause in ("shift+滚轮平移；", "ctrl+滚轮缩放"):
        assert any(clause in line for line in lines), lines


def demo_free_recording() -> list[Recording]:
    """A hand-built recording: the help does not depend on what is replayed."""
    from tracer.tui.examples import threads_example

    return [threads_example(10, 4)]


def test_the_mouse_note_never_breaks_inside_a_key_name() -> None:
    """At any width from 30 to 90, as the help draws it, no line of the Chinese mouse note
    ends inside "ctrl" or "shift"."""
    import io

    from rich.console import Console

    from tracer.tui.help import ClauseFlow

    for width in range(30, 90):
        console = Console(file=io.StringIO(), width=width, color_system=None)
        console.print(ClauseFlow(LABELS["zh"]["mouse"]))
        lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
        assert "".join(lines) == LABELS["zh"]["mouse"], (width, lines)
        assert all("ctrl+" in line or "ctrl" not in line for line in lines), (width, lines)
        assert all("shift+" in line or "shift" not in line for line in lines), (width, lines)

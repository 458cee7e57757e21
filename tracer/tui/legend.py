"""The legend: every phase's glyph, colour and name, always on screen.

Imports Rich, Textual and tracer.tui only.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from tracer.tui.lane import LEGEND_ORDER, PHASE_NAMES, RUNNING
from tracer.tui.palette import (
    GLYPHS,
    INCOMPLETE_GLYPH,
    INCOMPLETE_STYLE,
    MARKER_GLYPH,
    MARKER_STYLE,
    PHASE_STYLES,
)

__all__ = ["Legend", "legend_text"]

NBSP = "\u00a0"


def legend_text(labels: Mapping[str, str], *, incomplete: bool = False) -> Text:
    """``█ running  ─ waiting ...`` in the phase colours, then the on-CPU bars and the
    violation marker, and the mark of a request that never ended when ``incomplete`` (a lane
    on screen has one). Inside an entry the spaces do not break, so a narrow terminal wraps
    the legend between entries and every entry stays on screen."""
    text = Text()

    def entry(glyphs: str, style: Style, label: str, *, last: bool = False) -> None:
        text.append(glyphs, style)
        text.append(NBSP + label.replace(" ", NBSP) + ("" if last else "  "))

    for code in LEGEND_ORDER:
        entry(GLYPHS[code] * 2, PHASE_STYLES[code], labels[PHASE_NAMES[code]])
    entry("▂▅█", PHASE_STYLES[RUNNING], labels["cpu_share"])
    entry(MARKER_GLYPH, MARKER_STYLE, labels["violation"], last=not incomplete)
    if incomplete:
        entry(INCOMPLETE_GLYPH, INCOMPLETE_STYLE, labels["unended_legend"], last=True)
    return text


class Legend(Static):
    """The phase legend (one row; two or three on a narrow terminal)."""

    DEFAULT_CSS = """
    Legend { height: auto; width: 1fr; }
    """

    def __init__(
        self, labels: Mapping[str, str], *, incomplete: bool = False, id: str | None = None
    ) -> None:
        super().__init__(legend_text(labels, incomplete=incomplete), id=id)

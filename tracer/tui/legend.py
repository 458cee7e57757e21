"""The legend: every phase's glyph, colour and name, always on screen.

Imports Rich, Textual and tracer.tui only.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.widgets import Static

from tracer.tui.lane import LEGEND_ORDER, PHASE_NAMES, RUNNING
from tracer.tui.palette import GLYPHS, MARKER_GLYPH, MARKER_STYLE, PHASE_STYLES

__all__ = ["Legend", "legend_text"]


def legend_text(labels: Mapping[str, str]) -> Text:
    """One line: ``█ running  ─ waiting ...`` in the phase colours, then the violation marker."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for code in LEGEND_ORDER:
        text.append(GLYPHS[code] * 2, PHASE_STYLES[code])
        text.append(f" {labels[PHASE_NAMES[code]]}  ")
    text.append("▂▅█", PHASE_STYLES[RUNNING])
    text.append(f" {labels['cpu_share']}  ")
    text.append(MARKER_GLYPH, MARKER_STYLE)
    text.append(f" {labels['violation']}")
    return text


class Legend(Static):
    """The phase legend (one row)."""

    DEFAULT_CSS = """
    Legend { height: 1; width: 1fr; }
    """

    def __init__(self, labels: Mapping[str, str], *, id: str | None = None) -> None:
        super().__init__(legend_text(labels), id=id)

"""The legend: every phase's glyph, colour and name, always on screen.

An entry (glyph and name) is never split across rows: the legend places whole entries in rows
itself (``legend_text`` at a width) rather than leaving it to Rich's or Textual's word wrap,
which split at any Unicode space, U+00A0 included, so "!" ended one row and "违规" began the
next. Imports Rich, Textual and tracer.tui only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.content import Content
from textual.widgets import Static

from tracer.tui.lane import ABANDONED, BLOCKED, LEGEND_ORDER, PHASE_NAMES, RUNNING, WAITING
from tracer.tui.palette import (
    GLYPHS,
    INCOMPLETE_GLYPH,
    INCOMPLETE_STYLE,
    MARKER_GLYPH,
    MARKER_STYLE,
    PHASE_STYLES,
)

__all__ = ["Legend", "legend_entries", "legend_text", "GAP"]

GAP = "  "
"""Between two entries on one row."""


def legend_entries(
    labels: Mapping[str, str],
    *,
    incomplete: bool = False,
    abandoned: bool = False,
    has_loop: bool = True,
) -> list[Text]:
    """Each entry, ``█ running``, in its phase colour: the phases, the on-CPU bars, the
    violation marker, and the mark of a request that never ended when ``incomplete`` (a lane
    on screen has one). ``abandoned``: a lane shows work its client had given up on, listed
    after waiting (most recordings have none, and their legend stays as it was).
    ``has_loop``: a recording on screen ran on an event loop (``TimelineModel.has_loop``);
    without one (a WSGI app on threads or processes) nothing can block a loop, and the
    blocked loop's entry is left out."""
    entries = []

    def entry(glyphs: str, style: Style, label: str) -> None:
        entries.append(Text.assemble((glyphs, style), " " + label))

    order = [code for code in LEGEND_ORDER if has_loop or code != BLOCKED]
    if abandoned:
        order.insert(order.index(WAITING) + 1, ABANDONED)
    for code in order:
        entry(GLYPHS[code] * 2, PHASE_STYLES[code], labels[PHASE_NAMES[code]])
    entry("▂▅█", PHASE_STYLES[RUNNING], labels["cpu_share"])
    entry(MARKER_GLYPH, MARKER_STYLE, labels["violation"])
    if incomplete:
        entry(INCOMPLETE_GLYPH, INCOMPLETE_STYLE, labels["unended_legend"])
    return entries


def legend_text(
    labels: Mapping[str, str],
    *,
    incomplete: bool = False,
    abandoned: bool = False,
    has_loop: bool = True,
    width: int | None = None,
) -> Text:
    """The legend in rows of whole entries no wider than ``width`` cells (None: one row); an
    entry wider than a whole row gets a row of its own (and only it is cut). The other
    keywords choose the entries, as ``legend_entries`` takes them."""
    text = Text()
    used = 0
    for entry in legend_entries(
        labels, incomplete=incomplete, abandoned=abandoned, has_loop=has_loop
    ):
        size = cell_len(entry.plain)
        if used and width is not None and used + len(GAP) + size > width:
            text.append("\n")
            used = 0
        elif used:
            text.append(GAP)
            used += len(GAP)
        text.append_text(entry)
        used += size
    return text


class Legend(Static):
    """The phase legend (one row; two or three on a narrow terminal)."""

    DEFAULT_CSS = """
    Legend { height: auto; width: 1fr; }
    """

    def __init__(
        self,
        labels: Mapping[str, str],
        *,
        incomplete: bool = False,
        abandoned: bool = False,
        has_loop: bool = True,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._labels = labels
        self._incomplete = incomplete
        self._abandoned = abandoned
        self._has_loop = has_loop

    def _at(self, width: int) -> Content:
        return Content.from_rich_text(
            legend_text(
                self._labels,
                incomplete=self._incomplete,
                abandoned=self._abandoned,
                has_loop=self._has_loop,
                width=width or None,
            )
        )

    def show_loop(self, has_loop: bool) -> None:
        """List the blocked loop's entry or not, from now on (the live dashboard learns
        whether its run has a loop only once the app is loaded)."""
        if has_loop != self._has_loop:
            self._has_loop = has_loop
            self.refresh(layout=True)

    def render(self) -> Content:
        """The legend's rows at the widget's width."""
        return self._at(self.content_size.width)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        """Rows the legend takes at ``width``: measured at the width being laid out, not the
        widget's current one (the old one while the terminal is resized)."""
        return len(self._at(width).wrap(width)) if width > 0 else 0

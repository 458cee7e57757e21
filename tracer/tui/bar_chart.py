"""``BarChart``: a series as vertical bars measured from zero (the live dashboard's rps).

Textual's ``Sparkline`` scales its bars from the series' least value to its greatest and draws a
series of one value as full bars: a run's first tenth of a second (one bucket, nothing done
yet) read as a wall of traffic, and a steady rate as none. Here a bar's height is its value
over the largest shown, zero is no bar, and each value has a column of its own, oldest on the
left (the newest ``width`` when there are more). ``bar_rows`` is pure; the widget only draws it.
Imports Rich and Textual only.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

__all__ = ["BarChart", "bar_rows", "EIGHTHS"]

EIGHTHS = " ▁▂▃▄▅▆▇█"
"""A cell filled to 0..8 eighths of its height."""


def bar_rows(values: Sequence[float], width: int, height: int) -> list[str]:
    """``height`` rows of ``width`` cells, top row first: one column per value (the last
    ``width``), as high as the value over the largest of them; a value above zero shows at
    least an eighth of a cell, zero (or less) nothing."""
    if width <= 0 or height <= 0:
        return []
    shown = list(values)[-width:]
    top = max(shown, default=0.0)
    levels = [
        0 if value <= 0 or top <= 0 else max(1, round(value / top * 8 * height)) for value in shown
    ]
    levels += [0] * (width - len(levels))
    return [
        "".join(EIGHTHS[min(8, max(0, level - 8 * row))] for level in levels)
        for row in reversed(range(height))
    ]


class BarChart(Widget):
    """Draws ``data`` with ``bar_rows`` at the widget's size (colour from its CSS)."""

    DEFAULT_CSS = """
    BarChart { height: 1; color: #00af5f; }
    """

    data: reactive[Sequence[float]] = reactive(tuple)
    """The values, oldest first."""

    def render(self) -> Text:
        """The bars at the widget's size."""
        rows = bar_rows(self.data, self.size.width, self.size.height)
        return Text("\n".join(rows), no_wrap=True, overflow="crop")

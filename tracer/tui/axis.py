"""The time axis: ticks and units that adapt to the zoom (ns, µs, ms, s), and the cursor.

``ticks`` is pure arithmetic; ``AxisRenderable`` draws two rows (labels, then a ruler with the
cursor); ``Axis`` is the thin widget over it. Imports Rich, Textual and the viewport only.
"""

from __future__ import annotations

import math

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from textual.widget import Widget

from tracer.tui.palette import BLANK_STYLE
from tracer.tui.viewport import Viewport

__all__ = [
    "ticks",
    "format_time",
    "format_cursor",
    "unit_for",
    "window_magnitude",
    "AxisRenderable",
    "Axis",
]

_UNITS: tuple[tuple[str, int], ...] = (
    ("s", 1_000_000_000),
    ("ms", 1_000_000),
    ("µs", 1_000),
    ("ns", 1),
)
_TICK_STYLE = Style(color="#8a8a8a")
_LABEL_STYLE = Style(color="#d0d0d0")
_CURSOR_STYLE = Style(color="#ffffff", bold=True)
MIN_TICK_CELLS = 12


def unit_for(step_ns: float) -> tuple[str, int]:
    """The largest unit no bigger than ``step_ns`` (so tick labels need few decimals)."""
    for name, size in _UNITS:
        if step_ns >= size:
            return name, size
    return _UNITS[-1]


MAX_WHOLE_DIGITS = 4
"""The most digits before the point a time may take in the unit its step suggests; past that
(a deep zoom far from zero) it is written in the unit of its own size."""


def format_time(t_ns: float, step_ns: float | None = None, *, around: float | None = None) -> str:
    """``t_ns`` in the unit that suits ``step_ns`` (default: ``t_ns`` itself), e.g. ``12.5ms``.

    ``around`` (default ``t_ns``) is the size of the times shown together (an axis): when it
    would need more than ``MAX_WHOLE_DIGITS`` whole digits in the step's unit, the unit is the
    one of its own size, with the decimals the step needs (``2.0677606s``, not
    ``2067760600ns``), and every time given the same ``around`` is in that unit.
    """
    # A step of 500 ns reads better as 0.5 µs steps than as 500 ns ones: round up the unit.
    name, size = unit_for(abs(2 * step_ns if step_ns is not None else t_ns) or 1)
    magnitude = abs(around if around is not None else t_ns)
    if magnitude / size >= 10**MAX_WHOLE_DIGITS:
        name, size = unit_for(magnitude)
    step = step_ns if step_ns is not None else size
    # Enough decimals to tell steps apart, never finer than a nanosecond.
    finest = round(math.log10(size))
    decimals = max(0, min(finest, -math.floor(math.log10(step / size) + 1e-9))) if step > 0 else 0
    value = t_ns / size
    text = f"{value:.{decimals}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return f"{text}{name}"


def format_cursor(t_ns: int, viewport: Viewport) -> str:
    """The cursor's time for the status line: to a tenth of the axis's tick step (about a
    cell: the finest the screen tells apart), in the axis's unit, without the zeros that end
    its decimals (``2.225s`` at 2.225 s exactly, not ``2.2250000s``: the cursor is an exact
    time, so the digits left are all it has); padded with spaces to the width it takes at
    this zoom, so what follows on the line stays put while it moves.
    """
    step, _ = ticks(viewport.start, viewport.ns_per_cell, viewport.width)
    text = format_time(t_ns, step / 10, around=window_magnitude(viewport))
    number = text.rstrip("µnms")
    unit = text[len(number) :]
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    return f"{number}{unit}".ljust(len(text))


def ticks(start: float, ns_per_cell: float, width: int) -> tuple[float, list[float]]:
    """A round tick step (1, 2 or 5 × 10^k ns) at least ``MIN_TICK_CELLS`` apart, and the tick
    times that fall on screen."""
    least = max(1.0, ns_per_cell * MIN_TICK_CELLS)
    power = 10 ** math.floor(math.log10(least))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= least)
    first = math.ceil(start / step) * step
    end = start + ns_per_cell * width
    out: list[float] = []
    t = first
    while t < end:
        out.append(t)
        t += step
    return step, out


def window_magnitude(viewport: Viewport) -> float:
    """The size of the times on screen (either edge, whichever is further from zero): the
    axis labels and the cursor are all written in the unit that suits it."""
    return max(abs(viewport.start), abs(viewport.end))


class AxisRenderable:
    """Two rows: tick labels, then a ruler; ``offset`` cells on the left are left for labels."""

    def __init__(self, viewport: Viewport, label_offset: int, width: int) -> None:
        self.viewport = viewport
        self.label_offset = label_offset
        self.width = width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        vp = self.viewport
        cells = max(0, self.width - self.label_offset)
        step, times = ticks(vp.start, vp.ns_per_cell, cells)
        around = window_magnitude(vp)
        labels = [" "] * cells
        ruler = ["─"] * cells
        for t in times:
            column = vp.column(t)
            if not 0 <= column < cells:
                continue
            ruler[column] = "┼"
            text = format_time(t, step, around=around)
            if column + len(text) <= cells and all(
                c == " " for c in labels[column : column + len(text) + 1]
            ):
                labels[column : column + len(text)] = list(text)
        cursor = vp.column(vp.cursor)
        pad = Segment(" " * self.label_offset, BLANK_STYLE)
        yield pad
        yield Segment("".join(labels), _LABEL_STYLE)
        yield Segment.line()
        yield pad
        if 0 <= cursor < cells:
            yield Segment("".join(ruler[:cursor]), _TICK_STYLE)
            yield Segment("▼", _CURSOR_STYLE)
            yield Segment("".join(ruler[cursor + 1 :]), _TICK_STYLE)
        else:
            yield Segment("".join(ruler), _TICK_STYLE)


class Axis(Widget):
    """The time axis widget, two rows high, aligned with the timelines under it."""

    DEFAULT_CSS = """
    Axis { height: 2; }
    """

    def __init__(self, viewport: Viewport, label_offset: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.viewport = viewport
        self.label_offset = label_offset

    def render(self) -> AxisRenderable:
        """Draw the axis at the current viewport."""
        return AxisRenderable(self.viewport, self.label_offset, self.size.width)

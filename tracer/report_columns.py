"""A column of figures that line up on their decimal point, each figure's text unchanged.

A figure keeps three significant digits and drops trailing zeros (``tracer.figures``), so a
right-aligned column reads ``3.13`` over ``3.1`` over ``12.3``: the points wander. Each cell
is padded on the right to the column's longest part from the point on (``3.1 `` under
``3.13``), and printed right-aligned with those blanks kept (rich strips trailing blanks off a
right-justified cell: ``Figure`` lays it out itself). What follows the point goes with it: a
unit (``600.0 µs``), a percent sign, the ``+`` of a bound from below (``7+`` under ``12``).
A cell without a point ends its whole part where its last digit is (``1,234``, ``80%``); one
without a digit (``–``, a figure there is none of) is not a figure to line up: it stays at the
column's right edge, as it always stood.
Imports nothing of the project.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text

__all__ = ["Figure", "aligned", "point_at"]


def point_at(cell: str) -> int | None:
    """Where ``cell``'s whole part ends: at its decimal point (``1,234.6``: 5), else after its
    last digit (``80%``: 2, ``7+``: 1); None without a digit (``–``)."""
    for i, char in enumerate(cell):
        if char == "." and i and cell[i - 1].isdigit():
            return i
    digits = [i for i, char in enumerate(cell) if char.isdigit()]
    return digits[-1] + 1 if digits else None


def aligned(cells: Sequence[str]) -> list[str]:
    """``cells``, each padded on the right so that, right-aligned in one column, their whole
    parts end in one place (``point_at``): ``["3.13", "3.1", "12.3"]`` is ``["3.13", "3.1 ",
    "12.3 "]``. A column of whole numbers is unchanged, and so is a cell without a digit."""
    points = [point_at(cell) for cell in cells]
    tails = [
        None if at is None else cell_len(cell[at:]) for cell, at in zip(cells, points, strict=True)
    ]
    longest = max((tail for tail in tails if tail is not None), default=0)
    return [
        cell if tail is None else cell + " " * (longest - tail)
        for cell, tail in zip(cells, tails, strict=True)
    ]


class Figure:
    """A cell right-aligned in its column with its trailing blanks kept (``aligned``'s padding):
    a ``str`` or a ``Text`` cell of a right-justified column loses them."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Figure({self.text!r})"

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = cell_len(self.text)
        return Measurement(width, width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        room = max(0, options.max_width - cell_len(self.text))
        yield Text(" " * room + self.text, justify="left", no_wrap=True)

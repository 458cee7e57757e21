"""How the slide exports write a figure: the HTML summary table and the SVG lanes' tooltips.

One rule for both, so a latency reads the same in a tooltip and in the table. Imports
nothing of the project.
"""

from __future__ import annotations

import math

__all__ = ["number"]


def number(value: float) -> str:
    """A figure as the exports write it: thousands separated, one decimal from 10 up, three
    significant digits below (a 0.006 s run is not "0.0"; µs precision at most)."""
    if value == 0 or abs(value) >= 10:
        return f"{value:,.1f}"
    digits = min(6, 2 - math.floor(math.log10(abs(value))))
    text = f"{value:,.{digits}f}".rstrip("0")
    return text + "0" if text.endswith(".") else text

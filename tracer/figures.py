"""How a figure is written for a person to read, one rule per kind, wherever it is shown.

The report of ``trace run`` and ``trace summary``, ``trace sim``'s table, capacity line and
sweep, ``trace demo --headless``, the live dashboard's header: a count is grouped by thousands
(``10,000``); a rate is ``number`` of it (``0.25``, ``39.8``, ``1,234.6``) and its unit
``req/s``; a time in ms is ``number`` of it (``0.02``, ``2.35``, ``12.3``, ``1,234.6``), where
room is short with its unit and whole from 100 ms on (``1,106ms``); a time whose size is not
known in advance is written in its largest unit (``1.5 s``, ``250.0 ms``, ``40.0 µs``), as the
exported lanes' tooltips and the replay's detail pane write it; a share is a whole percent
(``75%``). The digits are ``number``'s, the HTML page's and the SVG's. ``µs`` is written as it
is: a stream whose encoding cannot take it writes ``us`` (``tracer.cli.encoding``);
machine-readable output (``--json``) keeps its numbers as they are. Imports nothing of the project: the
exporters write their figures with ``number`` too (``tracer.export.numbers`` re-exports it).
"""

from __future__ import annotations

import math

__all__ = ["RATE_UNIT", "count", "duration", "ms", "ms_in_short", "number", "percent", "rate"]

RATE_UNIT = "req/s"
"""The unit written after a rate of requests."""


def number(value: float) -> str:
    """A figure as the exports write it: thousands separated, one decimal from 10 up, three
    significant digits below (a 0.006 s run is not "0.0"; µs precision at most)."""
    if value == 0 or abs(value) >= 10:
        return f"{value:,.1f}"
    digits = min(6, 2 - math.floor(math.log10(abs(value))))
    text = f"{value:,.{digits}f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def count(value: int) -> str:
    """A count, its thousands grouped: ``10,000``."""
    return f"{value:,}"


def rate(value: float) -> str:
    """A rate (requests a second, without its unit): three significant digits below 10, one
    decimal from 10 up, thousands grouped (``0.25``, ``2.47``, ``39.8``, ``1,234.6``)."""
    return number(value)


def ms(value: float) -> str:
    """A time in ms (without its unit), as ``rate`` writes a figure: ``0.004``, ``2.35``,
    ``12.3``, ``1,234.6``."""
    return number(value)


def ms_in_short(value: float) -> str:
    """A time in ms with its unit where room is short (the dashboard's header, the replay's
    panel): ``ms`` below 100 ms (``2.35ms``, ``12.3ms``), whole ms from 100 on, which has
    three digits or more already (``1,106ms``)."""
    return f"{ms(value)}ms" if value < 100 else f"{value:,.0f}ms"


def duration(ns: float) -> str:
    """A time in its largest unit, with it: ``1.5 s``, ``250.0 ms``, ``40.0 µs``, ``0``."""
    if ns == 0:
        return "0"
    for size, unit in ((1e9, "s"), (1e6, "ms")):
        if abs(ns) >= size:
            return f"{number(ns / size)} {unit}"
    return f"{number(ns / 1e3)} µs"


def percent(share: float) -> str:
    """A share as a whole percent: ``0.75`` is ``75%``."""
    return f"{share:.0%}"

"""The summary panel: a recording's title and its headline numbers (``tracer.summary``).

The numbers flow into as many rows as the width needs, never splitting one figure across rows,
so the same panel reads at 80 columns, at 200, and as one half of compare mode.
Imports Rich, Textual and tracer.tui only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from textual.widgets import Static

from tracer.printable import printable

__all__ = ["SummaryPanel", "SummaryFlow", "summary_items"]

_TITLE = "bold #00afd7"
_KEY = "#8a8a8a"
_BAD = "bold #ff5f5f"
GAP = "  "


def _ms(value: float) -> str:
    # Thousands grouped, as the exported table and the captions write them (1,106ms).
    return f"{value:.1f}ms" if value < 100 else f"{value:,.0f}ms"


def _count(value: Any) -> str:
    """A count or a rate with its thousands grouped (``10,000``); anything else as it is."""
    return f"{value:,}" if isinstance(value, (int, float)) else str(value)


def summary_items(summary: Mapping[str, Any], labels: Mapping[str, str]) -> list[Text]:
    """The figures, each one unbreakable: requests, rps, latency, queueing, what went wrong."""
    latency = summary.get("latency_ms", {})
    queue = summary.get("queue_ms", {})

    def item(key: str, value: str, style: str = "", *, after: bool = False) -> Text:
        text = Text()
        if after:
            text.append(value, style)
            text.append(f" {labels[key]}", _KEY)
        else:
            text.append(f"{labels[key]} ", _KEY)
            text.append(value, style)
        return text

    def pct(name: str, values: Mapping[str, float], key: str | None = None) -> Text:
        text = Text(f"{labels[key]} " if key else "", _KEY)
        text.append(f"{name} ", _KEY)
        text.append(_ms(values.get(name, 0)))
        return text

    blocked = summary.get("loop_blocked_ms", 0.0)
    errors = summary.get("errors", 0)
    violations = summary.get("violations", 0)
    requests = summary.get("requests", 0)
    errors_item = item("errors", _count(errors), _BAD if errors else "")
    # Most telling first: a panel cut short for height keeps these (in compare mode, how many
    # requests were in the app at once is what tells blocking from interleaving). Errors, when
    # there are any, matter more than anything but the request count.
    return [
        item("request_one" if requests == 1 else "requests", _count(requests), after=True),
        *([errors_item] if errors else []),
        item("rps", "–" if (rps := summary.get("rps", 0)) is None else _count(rps), after=True),
        pct("p50", latency, "latency"),
        item("max_in_flight", _count(summary.get("max_in_flight", 0))),
        item("loop_blocked", _ms(blocked), _BAD if blocked else ""),
        *([] if errors else [errors_item]),
        pct("p95", latency),
        pct("p99", latency),
        pct("p50", queue, "queue"),
        # Named again: wrapped onto a row of its own, a bare "p99" would read as the latency's.
        pct("p99", queue, "queue"),
        item("violations", _count(violations), _BAD if violations else ""),
    ]


class SummaryFlow:
    """A title row, then the items laid out left to right, wrapping between items."""

    def __init__(self, title: Text, items: list[Text]) -> None:
        self.title = title
        self.items = items

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        title = self.title.copy()
        title.truncate(width, overflow="ellipsis")
        yield title
        line = Text()
        for item in self.items:
            if line.cell_len and line.cell_len + len(GAP) + item.cell_len > width:
                yield line
                line = Text()
            if line.cell_len:
                line.append(GAP)
            line.append_text(item)
        line.truncate(width, overflow="ellipsis")
        yield line


class SummaryPanel(Static):
    """A recording's title and figures (as many rows as the width needs)."""

    DEFAULT_CSS = """
    SummaryPanel { height: auto; width: 1fr; }
    """

    def __init__(
        self,
        title: str,
        summary: Mapping[str, Any],
        labels: Mapping[str, str],
        *,
        truncated: bool = False,
        id: str | None = None,
    ) -> None:
        # A recording's title holds its app's name as recorded: controls are shown escaped.
        heading = Text(printable(title), _TITLE)
        if truncated:
            heading.append(f"  ({labels['truncated']})", _BAD)
        super().__init__(SummaryFlow(heading, summary_items(summary, labels)), id=id)

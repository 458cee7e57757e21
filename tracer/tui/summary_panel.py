"""The summary panel: a recording's title and its headline numbers (``tracer.summary``).

Compare mode shows two side by side. Imports Rich, Textual and tracer.tui / tracer.summary only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.widgets import Static

__all__ = ["SummaryPanel", "summary_text"]

_TITLE = "bold #00afd7"
_KEY = "#8a8a8a"
_BAD = "bold #ff5f5f"


def _ms(value: float) -> str:
    return f"{value:.1f}ms" if value < 100 else f"{value:.0f}ms"


def summary_text(
    title: str, summary: Mapping[str, Any], labels: Mapping[str, str], *, truncated: bool = False
) -> Text:
    """Title, then requests/rps/latency percentiles, then queueing, blocking, errors."""
    latency = summary.get("latency_ms", {})
    queue = summary.get("queue_ms", {})
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(title, _TITLE)
    if truncated:
        text.append(f"  ({labels['truncated']})", _BAD)
    text.append("\n")

    def item(key: str, value: str, style: str = "") -> None:
        text.append(f"{labels[key]} ", _KEY)
        text.append(value + "  ", style)

    item("requests", str(summary.get("requests", 0)))
    item("rps", f"{summary.get('rps', 0)}")
    item(
        "latency",
        f"p50 {_ms(latency.get('p50', 0))} p95 {_ms(latency.get('p95', 0))} p99 {_ms(latency.get('p99', 0))}",
    )
    text.append("\n")
    item("queue", f"p50 {_ms(queue.get('p50', 0))} p99 {_ms(queue.get('p99', 0))}")
    item("max_in_flight", str(summary.get("max_in_flight", 0)))
    blocked = summary.get("loop_blocked_ms", 0.0)
    item("loop_blocked", _ms(blocked), _BAD if blocked else "")
    errors = summary.get("errors", 0)
    item("errors", str(errors), _BAD if errors else "")
    violations = summary.get("violations", 0)
    item("violations", str(violations), _BAD if violations else "")
    return text


class SummaryPanel(Static):
    """Three rows: title, throughput and latency, queueing and what went wrong."""

    DEFAULT_CSS = """
    SummaryPanel { height: 3; width: 1fr; }
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
        super().__init__(summary_text(title, summary, labels, truncated=truncated), id=id)

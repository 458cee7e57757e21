"""The summary panel: a recording's title and its headline numbers (``tracer.summary``).

The numbers flow into as many rows as the width needs, never splitting one figure across rows,
so the same panel reads at 80 columns, at 200, and as one half of compare mode.
A percentile is shown only of a sample that measures it (``tracer.report.measures``), as the
report shows it. The lifespan's own blocking, which the loop's blocked time leaves out, is
said on an item of its own when there is any, as the report's lifespan line says it. Imports
Rich, Textual, ``tracer.figures`` (the way every place writes a figure),
``tracer.printable``, ``tracer.report``, ``tracer.tui.one_line`` and ``tracer.tui.model``
(for the key of the lifespan's blocked time).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from textual.message import Message
from textual.widgets import Static

from tracer.figures import ms_in_short
from tracer.printable import printable
from tracer.report import measures
from tracer.tui.model import LIFESPAN_BLOCKED
from tracer.tui.one_line import cut_to

__all__ = [
    "SummaryPanel",
    "SummaryFlow",
    "summary_items",
    "lifespan_blocked_words",
    "lifespan_failure_items",
]

_TITLE = "bold #00afd7"
_KEY = "#8a8a8a"
_BAD = "bold #ff5f5f"
_AMBER = "#ffaf00"  # the detail pane's colour for a response cut short
GAP = "  "
NONE = "–"
"""A figure there is none of: a rate without time, a latency p50 of fewer than two requests."""
MESSAGE_CELLS = 120
"""The most cells of a failed lifespan's message the panel shows (the recording keeps 500)."""


# Short of room: as the page below 100 ms (a 0.02 ms latency is not "0.0ms"), whole ms from
# 100 on (``tracer.figures.ms_in_short``), as the dashboard's header writes it.
_ms = ms_in_short


def _count(value: Any) -> str:
    """A count or a rate with its thousands grouped (``10,000``); anything else as it is."""
    return f"{value:,}" if isinstance(value, (int, float)) else str(value)


def summary_items(
    summary: Mapping[str, Any],
    labels: Mapping[str, str],
    samples: Mapping[str, int] | None = None,
    *,
    has_loop: bool = True,
) -> list[Text]:
    """The figures, each one unbreakable: requests, what went wrong (errors, responses cut
    short), responses the client closed on purpose, a failed lifespan, rps, latency,
    queueing; the loop's blocked time only when ``has_loop`` (a WSGI app on threads or
    processes has no event loop to block: the report leaves that line out too), then the
    lifespan's own, when ``summary`` has it (``LIFESPAN_BLOCKED``, which
    ``TimelineModel.figures`` adds) and it is not nothing.

    ``samples``: how many values ``latency_ms`` and ``queue_ms`` are each of
    (``TimelineModel.samples``); one not given: the most it can be of (the requests that
    finished, every request). A percentile appears only when its sample measures it
    (``tracer.report.measures``, as the report shows it): latency p50, the headline, reads
    ``–`` then; the others are left out.
    """
    latency = summary.get("latency_ms", {})
    queue = summary.get("queue_ms", {})
    requests = summary.get("requests", 0)
    sizes = {
        "latency_ms": summary.get("completed", requests),
        "queue_ms": requests,
        **(samples or {}),
    }

    def item(key: str, value: str, style: str = "", *, after: bool = False) -> Text:
        text = Text()
        if after:
            text.append(value, style)
            text.append(f" {labels[key]}", _KEY)
        else:
            text.append(f"{labels[key]} ", _KEY)
            text.append(value, style)
        return text

    def pct(
        name: str, values: Mapping[str, float], sample: str, key: str | None = None
    ) -> list[Text]:
        measured = measures(name, sizes[sample])
        if not measured and not (name == "p50" and sample == "latency_ms"):
            return []
        text = Text(f"{labels[key]} " if key else "", _KEY)
        text.append(f"{name} ", _KEY)
        text.append(_ms(values.get(name, 0)) if measured else NONE)
        return [text]

    blocked = summary.get("loop_blocked_ms", 0.0)
    errors = summary.get("errors", 0)
    violations = summary.get("violations", 0)
    errors_item = item("errors", _count(errors), _BAD if errors else "")
    # Present only when there are any (the summary leaves the keys out otherwise).
    # The summary's own keys: a response the client left on purpose is counted under
    # ``client_closed`` only, though the server's end may say it was cut short too.
    cut_short = summary.get("cut_short", 0)
    troubles = [item("cut_short", _count(cut_short), _AMBER)] if cut_short else []
    closed = summary.get("client_closed", 0)
    # What the run asked for (--read-for, --read-bytes): said, not coloured as trouble.
    troubles += [item("client_closed", _count(closed))] if closed else []
    troubles += lifespan_failure_items(summary.get("lifespan_failed"), labels)
    lifespan = lifespan_blocked_words(summary.get(LIFESPAN_BLOCKED), labels, _ms)
    lifespan_item = [Text.assemble((f"{labels['lifespan']} ", _KEY), lifespan)] if lifespan else []
    # Most telling first: a panel cut short for height keeps these (in compare mode, how many
    # requests were in the app at once is what tells blocking from interleaving). Errors, when
    # there are any, matter more than anything but the request count.
    return [
        item("request_one" if requests == 1 else "requests", _count(requests), after=True),
        *([errors_item] if errors else []),
        *troubles,
        item("rps", NONE if (rps := summary.get("rps", 0)) is None else _count(rps), after=True),
        *pct("p50", latency, "latency_ms", "latency"),
        item("max_in_flight", _count(summary.get("max_in_flight", 0))),
        *([item("loop_blocked", _ms(blocked), _BAD if blocked else "")] if has_loop else []),
        *lifespan_item,
        *([] if errors else [errors_item]),
        *pct("p95", latency, "latency_ms"),
        *pct("p99", latency, "latency_ms"),
        *pct("p50", queue, "queue_ms", "queue"),
        # Named again: wrapped onto a row of its own, a bare "p99" would read as the latency's.
        *pct("p99", queue, "queue_ms", "queue"),
        item("violations", _count(violations), _BAD if violations else ""),
    ]


def lifespan_blocked_words(
    blocked: Any, labels: Mapping[str, str], duration: Callable[[float], str]
) -> str | None:
    """What the lifespan connections' own blocking was, after the word "lifespan", as the
    report's lifespan line says it: ``blocked the loop 50.5ms before the load, 20.0ms after
    it`` (the times as ``duration`` writes milliseconds, only those not 0); None when it was
    nothing. ``blocked``: ``{"before": ms, "during": ms, "after": ms}`` (any other value:
    nothing to say)."""
    if not isinstance(blocked, Mapping):
        return None
    parts = [
        labels[key].format(ms=duration(ms))
        for when, key in (
            ("before", "before_load"),
            ("during", "during_load"),
            ("after", "after_load"),
        )
        if isinstance(ms := blocked.get(when), (int, float)) and ms > 0
    ]
    if not parts:
        return None
    return labels["lifespan_blocked"].format(parts=labels["comma"].join(parts))


def lifespan_failure_items(failures: Any, labels: Mapping[str, str]) -> list[Text]:
    """``lifespan startup failed: <the app's message>``, once per phase and message (every
    worker process of a server runs its own lifespan, and fails alike); the message shown
    with its controls escaped and cut to ``MESSAGE_CELLS``. ``failures``: as the summary's
    ``lifespan_failed`` (any other value: none)."""
    items: list[Text] = []
    seen: set[tuple[Any, Any]] = set()
    for failure in failures if isinstance(failures, list) else []:
        if not isinstance(failure, Mapping):
            continue
        phase, message = failure.get("phase"), failure.get("message")
        key = f"lifespan_{phase}_failed"
        if key not in labels or (phase, message) in seen:
            continue
        seen.add((phase, message))
        text = Text(labels[key], _BAD)
        if message is not None and message != "":
            text.append(labels["colon"], _BAD)
            text.append(_cut(printable(message), MESSAGE_CELLS))
        items.append(text)
    return items


def _cut(text: str, cells: int) -> str:
    """``text`` cut to ``cells`` terminal cells (CJK-aware), ending in ``…`` when cut."""
    if cell_len(text) <= cells:
        return text
    return set_cell_size(text, cells - 1) + "…"


class SummaryFlow:
    """A title row, then the items laid out left to right, wrapping between items."""

    def __init__(self, title: Text, items: list[Text]) -> None:
        self.title = title
        self.items = items

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        # Cut before a bracket it would open on nothing: "ASGI loop…", not "ASGI loop（ …".
        yield cut_to(self.title, width)
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
    """A recording's title and figures (as many rows as the width needs); ``samples`` and
    ``has_loop`` as ``summary_items`` takes them. ``summary`` None: the figures are being computed (a big
    recording's take seconds, on a thread of their own); the panel says so until a
    ``SummaryPanel.Figures`` message brings them (``filled``)."""

    class Figures(Message):
        """A recording's summary and samples, computed on another thread for the panel it is
        posted to; ``error``: what computing them raised instead (raised again by the panel,
        on the UI's thread, as it would have been had the panel computed them itself)."""

        def __init__(
            self,
            summary: Mapping[str, Any] | None,
            samples: Mapping[str, int] | None,
            error: BaseException | None = None,
        ) -> None:
            super().__init__()
            self.summary = summary
            self.samples = samples
            self.error = error

    DEFAULT_CSS = """
    SummaryPanel { height: auto; width: 1fr; }
    """

    def __init__(
        self,
        title: str,
        summary: Mapping[str, Any] | None,
        labels: Mapping[str, str],
        *,
        truncated: bool = False,
        samples: Mapping[str, int] | None = None,
        has_loop: bool = True,
        id: str | None = None,
    ) -> None:
        # A recording's title holds its app's name as recorded: controls are shown escaped.
        heading = Text(printable(title), _TITLE)
        if truncated:
            heading.append(f"  ({labels['truncated']})", _BAD)
        self._heading = heading
        self._labels = labels
        self._has_loop = has_loop
        self.filled = summary is not None
        """Whether the panel shows the figures (not that they are being computed)."""
        if summary is None:
            items = [Text(labels["summing_up"], _KEY)]
        else:
            items = summary_items(summary, labels, samples, has_loop=has_loop)
        super().__init__(SummaryFlow(heading, items), id=id)

    def on_summary_panel_figures(self, message: SummaryPanel.Figures) -> None:
        """The figures, computed on another thread: shown in place of the wait."""
        if message.error is not None:
            raise message.error
        assert message.summary is not None
        items = summary_items(
            message.summary, self._labels, message.samples, has_loop=self._has_loop
        )
        self.update(SummaryFlow(self._heading, items))
        self.filled = True

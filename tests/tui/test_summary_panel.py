"""The summary panel: figures flow into rows without splitting one."""

from __future__ import annotations

import io

from rich.console import Console
from rich.text import Text

from tracer.recording import Recording
from tracer.summary import summarize
from tracer.tui.labels import labels
from tracer.tui.summary_panel import SummaryFlow, summary_items


def _render(flow: SummaryFlow, width: int) -> list[str]:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(flow)
    return console.file.getvalue().splitlines()


def test_items_carry_the_headline_numbers(loop_rec: Recording) -> None:
    """Requests, rps, latency p50 and in flight first (what a cut-short compare panel keeps),
    blocking, errors, then the tail percentiles (of samples that measure them), queueing and
    violations."""
    summary = summarize(loop_rec)
    items = [item.plain for item in summary_items(summary, labels("en"))]
    assert items[0] == "8 requests"
    assert items[2].startswith("latency p50 ") and items[3].startswith("max in flight ")
    assert items[4] == "loop blocked 30.0ms" and items[5] == "errors 0"
    # Eight values measure no p95 nor p99 (tracer.report.measures).
    assert items[6].startswith("queue p50 ") and items[-1] == "violations 0"
    assert len(items) == 8
    tails = summary_items(summary, labels("en"), {"latency_ms": 100, "queue_ms": 100})
    items = [item.plain for item in tails]
    assert items[6].startswith("p95 ") and items[7].startswith("p99 ")
    assert items[8].startswith("queue p50 ") and items[9].startswith("queue p99 ")


def test_narrow_panels_wrap_between_items(loop_rec: Recording) -> None:
    """At 50 columns no figure is cut; at 200 they fit on one row under the title."""
    items = summary_items(summarize(loop_rec), labels("en"))
    narrow = _render(SummaryFlow(Text("title"), items), 50)
    assert narrow[0] == "title" and len(narrow) > 3
    body = "\n".join(narrow[1:])
    for item in items:
        assert item.plain in body
    wide = _render(SummaryFlow(Text("title"), items), 200)
    assert len(wide) == 2


def test_one_request_is_singular_and_errors_come_early(threads_rec: Recording) -> None:
    """ "1 request", not "1 requests"; a run with errors names them right after the request
    count (a narrow or cut-short panel keeps them)."""
    items = [item.plain for item in summary_items(summarize(threads_rec), labels("en"))]
    assert items[:2] == ["10 requests", "errors 1"]
    one = summarize(Recording(threads_rec.header, [e for e in threads_rec.events if e.req == 1]))
    assert summary_items(one, labels("en"))[0].plain == "1 request"
    narrow = _render(
        SummaryFlow(Text("title"), summary_items(summarize(threads_rec), labels("en"))), 30
    )
    assert "errors 1" in "\n".join(narrow[:3])

"""The report at 40, 60 and 80 columns: every number whole, no line wider than the console.

A 60-column terminal once got ``│ total │ 243.10 │ 212.… │``: rich shrinks every column of a
table too wide for the console, numbers included. The recordings are a simulated WSGI run on
four threads (every percentile shown: 1,000 requests), the loop example (a blocking place, two
routes) and the threads example (an error and a violation, two routes).
"""

from __future__ import annotations

import io
import re

import pytest
from rich.cells import cell_len
from rich.console import Console

from tracer.digest import Digest
from tracer.figures import count, ms
from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.report import measures, print_report
from tracer.summary import summarize
from tracer.tui.examples import loop_example, threads_example

WIDTHS = (40, 60, 80)
KEYS = ("mean", "p50", "p90", "p99", "p99.9", "max")
"""The latency table's columns (the summary has p95 too)."""


def _simulated_threads() -> Recording:
    """1,000 requests through 4 threads of a simulated WSGI server, 10 clients: they queue,
    and the latency table has every percentile (p99.9 needs 1,000 values)."""
    from sim import SimConfig, inline_workload, parse_dist, simulate

    workload = inline_workload(cpu=parse_dist("2ms"), io=parse_dist("fixed:200ms"))
    recorder = Recorder()
    config = SimConfig(model="threads", requests=1000, concurrency=10, workload=workload, seed=3)
    simulate(config, recorder=recorder)
    return recorder.recording()


def _report(recording: Recording, width: int) -> tuple[str, Digest]:
    digest = Digest()
    digest.feed(recording.events)
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None)
    print_report(recording, summarize(recording.events), console=console, details=digest.details())
    return out.getvalue(), digest


def _numbers(recording: Recording, digest: Digest) -> list[str]:
    """Every number the report's tables print, as they print it (the percentiles of the
    latency table that its samples measure)."""
    summary, details = summarize(recording.events), digest.details()
    shown = [
        ms(figures[key])
        for figures, values in (
            (summary["latency_ms"], details.latencies),
            (details.queue_ms, details.queued),
        )
        for key in KEYS
        if measures(key, values)
    ]
    for worker in details.workers:
        shown += [ms(worker.busy_ms), ms(worker.cpu_ms), f"{worker.utilisation:.0%}"]
    for culprit in details.culprits:
        shown += [ms(culprit.total_ms), ms(culprit.max_ms), count(culprit.delayed)]
    if details.route_count > 1:
        for route in details.routes:
            shown += [
                ms(route.latency_ms[key])
                for key in ("p50", "p90", "p99", "max")
                if measures(key, route.latencies)
            ]
    return shown


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(
    "recording",
    [
        pytest.param(_simulated_threads, id="sim-threads"),
        pytest.param(lambda: loop_example(8), id="loop"),
        pytest.param(lambda: threads_example(10, 4), id="threads"),
    ],
)
def test_every_number_is_whole_and_every_line_fits(recording: object, width: int) -> None:
    """No ``…`` anywhere (the names here are short), each number the tables hold is printed
    whole, between spaces or borders, and no line is wider than the console."""
    rec = recording()  # type: ignore[operator]
    text, digest = _report(rec, width)
    assert "…" not in text, text
    for line in text.splitlines():
        assert cell_len(line.rstrip()) <= width, (width, line)
    for number in _numbers(rec, digest):
        assert re.search(rf"(^|[\s│┃]){re.escape(number)}($|[\s│┃])", text, re.M), (number, text)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_percentiles_keep_their_names_and_order(width: int) -> None:
    """Wide or on its side, the latency table names every percentile once, in order, and
    total's values read in that order too."""
    rec = _simulated_threads()
    text, _ = _report(rec, width)
    latency = summarize(rec.events)["latency_ms"]
    table = text[text.index("Latency (ms)") :]
    table = table[: table.index("Workers")]
    places = [re.search(rf"[\s│┃]{re.escape(key)}[\s│┃]", table) for key in KEYS]
    assert all(places), table
    assert [m.start() for m in places if m] == sorted(m.start() for m in places if m)
    values = [table.index(ms(latency[key])) for key in ("mean", "p50", "p99.9")]
    # Wide (the percentiles on the header's one line): total's row left to right.
    if len({table.count("\n", 0, m.start()) for m in places if m}) == 1:
        assert len({table.count("\n", 0, v) for v in values}) == 1
    else:  # on its side: one row per percentile
        assert values == sorted(values) and len({table.count("\n", 0, v) for v in values}) == 3


def test_too_narrow_for_any_form_the_table_is_printed_wider_not_cut() -> None:
    """At 24 columns not even the narrow workers table fits: it comes out wider than the
    console (the terminal wraps it), its numbers whole."""
    rec = _simulated_threads()
    text, digest = _report(rec, 24)
    for number in _numbers(rec, digest):
        assert number in text, number
    workers = text[text.index("Workers") :].splitlines()
    assert max(cell_len(line.rstrip()) for line in workers) > 24

"""A demo's headless figures give a percentile only of a sample that measures it, by the
report's rule (``tracer.report.measures``): threadpool-offload's 40 clients make 80 requests,
too few for a p99."""

from __future__ import annotations

from tests.demos.demo_cache import simulated
from tracer.report import measures
from tracer.summary import request_spans, sample_sizes


def test_threadpool_offload_figures_leave_out_an_unmeasured_p99() -> None:
    demo = simulated("threadpool-offload")
    sizes = [sample_sizes(request_spans(r.events))["latency_ms"] for r in demo.recordings]
    assert sizes == [80, 100]
    figures = demo.figures
    assert "p99_ms_40_clients" not in figures
    assert figures["p99_ms_50_clients"] > 600
    # The slowest of each side still tells the story: one thread run, or a wait for a token
    # and then one.
    assert figures["max_ms_40_clients"] < 600 < figures["max_ms_50_clients"]


def test_every_percentile_figure_is_measured() -> None:
    demo = simulated("threadpool-offload")
    names = {"40_clients": demo.recordings[0], "50_clients": demo.recordings[1]}
    for key in demo.figures:
        head, _, side = key.partition("_ms_")
        if head.startswith("p") and side in names:
            size = sample_sizes(request_spans(names[side].events))["latency_ms"]
            assert measures(head, size), key

"""sim.sweep: parsing ``NAME=V1,V2`` and one simulation per value."""

from __future__ import annotations

import pytest

from sim import SimConfig
from sim.dist import Fixed
from sim.sweep import parse_sweep, sweep
from sim.workload import inline_workload
from tracer.errors import UsageError


def test_parse_names_and_types() -> None:
    """Names map to SimConfig fields with their types."""
    assert parse_sweep("threads=1,2,4") == ("threads", [1, 2, 4])
    assert parse_sweep("workers=2") == ("workers", [2])
    assert parse_sweep("rate=50,100.5") == ("rate", [50.0, 100.5])
    assert parse_sweep("pool-size=1,40") == ("pool_size", [1, 40])


@pytest.mark.parametrize("text", ["threads", "threads=", "speed=1", "threads=0", "threads=a"])
def test_parse_errors(text: str) -> None:
    """Malformed sweeps are UsageErrors quoting the text."""
    with pytest.raises(UsageError, match="--sweep"):
        parse_sweep(text)


def test_how_many_threads_do_i_need() -> None:
    """At 50 req/s of 100 ms I/O, 4 threads saturate (latency explodes) and 8 do not."""
    config = SimConfig(rate=50.0, requests=2000, workload=inline_workload(io=Fixed(100_000_000)))
    rows = sweep(config, "threads", [4, 8, 16])
    p99 = [row.summary["latency_ms"]["p99"] for row in rows]
    assert p99[0] > 10 * p99[1]
    assert p99[2] == pytest.approx(100.0)
    assert rows[1].as_dict()["threads"] == 8


def test_sweeping_rate_opens_the_loop() -> None:
    """Sweeping rate makes arrivals Poisson at each rate: throughput follows the rate."""
    rows = sweep(SimConfig(threads=16, requests=3000), "rate", [20.0, 40.0])
    assert [round(row.summary["rps"] / row.value, 1) for row in rows] == [1.0, 1.0]


def test_concurrency_sweep_needs_a_closed_loop() -> None:
    """Sweeping -c with --rate makes no sense: a UsageError says so."""
    with pytest.raises(UsageError, match="closed loop"):
        sweep(SimConfig(rate=10.0), "concurrency", [1, 2])


def test_a_row_whose_clock_would_pass_292_years_is_named() -> None:
    """A rate so low that its arrivals pass 2^63 ns: a UsageError naming the row, not a
    table with times past 64 bits."""
    config = SimConfig(requests=1000, workload=inline_workload(io=Fixed(1_000_000)))
    with pytest.raises(UsageError, match=r"^--sweep rate=1e-08: The simulated time would pass"):
        sweep(config, "rate", [1e3, 1e-8])

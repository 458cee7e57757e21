"""The simulator against queueing theory: Erlang C, Pollaczek–Khinchine, Little's law, FIFO recursion.

The formulas are written out here. Service is I/O only, so the GIL does not interfere, and the
runs are stats-only. The mean wait at ρ = 0.8 converges slowly: over 8 seeds its relative
standard error at 200,000 requests was 3.4% for M/M/4 and 1.6% for M/D/1. So that the 3%
bound holds with margin, not by the luck of one seed, each test also runs the same arrivals
through a control queue whose mean wait is known (Lindley's recursion, here in the test) and
subtracts β × (its sample mean - its known mean): unbiased for any fixed β, and because both
queues swell and drain with the same arrivals, the standard error falls to 0.7% (M/M/4) and
0.3% (M/D/1). The raw sample mean must also be within 3 of its standard errors.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable

import pytest

from sim import SimConfig, simulate
from sim.dist import Exponential, Fixed
from sim.result import SimResult
from sim.workload import inline_workload

MS = 1_000_000
S_NS = 10 * MS  # mean service time: 10 ms
RHO = 0.8


def erlang_c_wait(c: int, lam: float, s: float) -> float:
    """Mean wait in queue of M/M/c (Erlang C): C(c, a) / (c/s - λ), with a = λs."""
    a = lam * s
    top = a**c / math.factorial(c) * c / (c - a)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c / s - lam)


def pk_wait(lam: float, mean_s: float, second_moment_s: float) -> float:
    """Mean wait in queue of M/G/1 (Pollaczek–Khinchine): λE[S²] / (2(1 - ρ))."""
    return lam * second_moment_s / (2 * (1 - lam * mean_s))


def _mean_wait_s(result: SimResult) -> float:
    stats = result.stats
    assert stats is not None
    return (
        sum(s - q for q, s in zip(stats.queued, stats.started, strict=True))
        / len(stats.queued)
        / 1e9
    )


def _single_server_mean_wait_s(result: SimResult, service_ns: Callable[[int], float]) -> float:
    """Mean wait of the simulated arrivals through one FIFO server (Lindley's recursion).

    ``service_ns(simulated service)`` gives the control queue's service time for each request.
    """
    stats = result.stats
    assert stats is not None
    rows = sorted(zip(stats.queued, stats.started, stats.ended, strict=True))
    wait = total = 0.0
    previous_arrival, previous_service = rows[0][0], 0.0
    for arrival, started, ended in rows:
        wait = max(0.0, wait + previous_service - (arrival - previous_arrival))
        total += wait
        previous_arrival, previous_service = arrival, service_ns(ended - started)
    return total / len(rows) / 1e9


@pytest.mark.timeout(120)
def test_mmc_mean_wait_matches_erlang_c() -> None:
    """M/M/4 at ρ = 0.8 over 200,000 requests: mean wait within 3% of Erlang C.

    Control: the same arrivals and services / 4 through one server (an M/M/1 at ρ = 0.8).
    """
    c, s = 4, S_NS / 1e9
    lam = RHO * c / s
    result = simulate(
        SimConfig(
            model="threads",
            threads=c,
            rate=lam,
            requests=200_000,
            workload=inline_workload(io=Exponential(S_NS)),
        )
    )
    expected = erlang_c_wait(c, lam, s)
    control_expected = erlang_c_wait(1, lam, s / c)  # M/M/1: ρ / (μ' - λ) with μ' = c/s
    assert control_expected == pytest.approx(RHO / (c / s - lam))
    raw = _mean_wait_s(result)
    beta = expected / control_expected
    control = _single_server_mean_wait_s(result, lambda service: service / c)
    estimate = raw - beta * (control - control_expected)
    assert estimate == pytest.approx(expected, rel=0.03)
    assert raw == pytest.approx(expected, rel=0.105)
    assert result.summary["queue_ms"]["mean"] == pytest.approx(raw * 1000, abs=0.001)


@pytest.mark.timeout(120)
def test_md1_mean_wait_matches_pollaczek_khinchine() -> None:
    """M/D/1 at ρ = 0.8 (one thread, fixed 10 ms), 200,000 requests: mean wait within 3% of P-K.

    Control: the same arrivals through one server of fixed 9.5 ms (an M/D/1 at ρ = 0.76).
    """
    s = S_NS / 1e9
    lam = RHO / s
    result = simulate(
        SimConfig(
            model="threads",
            threads=1,
            rate=lam,
            requests=200_000,
            workload=inline_workload(io=Fixed(S_NS)),
        )
    )
    expected = pk_wait(lam, s, s * s)
    assert expected == pytest.approx(0.020)
    control_s = 0.95 * s
    control_expected = pk_wait(lam, control_s, control_s * control_s)
    control = _single_server_mean_wait_s(result, lambda service: 0.95 * service)
    raw = _mean_wait_s(result)
    estimate = raw - expected / control_expected * (control - control_expected)
    assert estimate == pytest.approx(expected, rel=0.03)
    assert raw == pytest.approx(expected, rel=0.05)


def test_fifo_waits_follow_the_kiefer_wolfowitz_recursion() -> None:
    """Exactly, request by request: each starts at max(arrival, earliest free thread) (c FIFO servers)."""
    c = 3
    result = simulate(
        SimConfig(
            model="threads",
            threads=c,
            rate=250.0,
            requests=50_000,
            seed=9,
            workload=inline_workload(io=Exponential(S_NS)),
        )
    )
    stats = result.stats
    assert stats is not None
    rows = sorted(zip(stats.queued, stats.started, stats.ended, strict=True))
    free = [0] * c
    for arrival, started, ended in rows:
        start = max(arrival, heapq.heappop(free))
        assert started == start
        heapq.heappush(free, start + (ended - started))


@pytest.mark.timeout(60)
def test_littles_law_in_a_closed_loop() -> None:
    """N clients = throughput × (response time + think time), on every model."""
    n_clients = 20
    for model in ("threads", "loop", "processes", "wsgi-on-loop"):
        result = simulate(
            SimConfig(
                model=model,
                threads=4,
                workers=2,
                concurrency=n_clients,
                requests=20_000,
                think=Exponential(20 * MS),
                workload=inline_workload(cpu=Exponential(MS), io=Exponential(S_NS)),
            )
        )
        summary = result.summary
        response_s = summary["latency_ms"]["mean"] / 1000
        assert summary["rps"] * (response_s + 0.020) == pytest.approx(n_clients, rel=0.01), model

"""Long CPU bursts: the agenda stays small, rounds of threads taking turns are settled at once,
and the result is the one switching interval by interval gives."""

from __future__ import annotations

import random
import subprocess
import sys
from typing import Any

import pytest

from sim import SimConfig, simulate
from sim.cores import Cores
from sim.dist import MAX_DURATION_NS, Fixed
from sim.engine import ClockOverflow, Engine
from sim.gil import Gil
from sim.workload import inline_workload

MS = 1_000_000
S = 1000 * MS


def _bursts(engine: Engine, gil: Gil, cpu: list[int]) -> list[tuple[int, int]]:
    """Start one burst per entry of ``cpu`` at t=0; returns (end, index) as they end."""
    ends: list[tuple[int, int]] = []
    for i, ns in enumerate(cpu):
        gil.run(ns, lambda index: ends.append((engine.now, index)), i)
    return ends


def _sampled(engine: Engine, every: int, until: int) -> list[int]:
    """Heap sizes (``held``) every ``every`` ns up to ``until``."""
    sizes: list[int] = []

    def sample(_: object) -> None:
        sizes.append(engine.held())
        if engine.now + every <= until:
            engine.after(every, sample)

    engine.at(every, sample)
    return sizes


@pytest.mark.parametrize("cores", [None, 1, 2])
def test_heap_stays_small_through_a_long_contended_burst(cores: int | None) -> None:
    """Three threads share 60 s of CPU (about 12,000 forced switches): the heap never holds
    more than a few dozen entries, with or without cores (each switch used to leave the
    pre-empted end, and the cores' timers, in the heap until their far-off time)."""
    engine = Engine()
    gil = Gil(engine, cores=Cores(engine, cores) if cores else None, skip=False)
    ends = _bursts(engine, gil, [20 * S, 20 * S, 20 * S])
    sizes = _sampled(engine, 100 * MS, 60 * S)
    engine.run()
    assert [index for _, index in ends] == [0, 1, 2] and ends[-1][0] == 60 * S
    assert gil.switches == 3 * 4000 - 3
    assert len(sizes) == 600 and max(sizes) <= 80
    assert engine.pending() == 0 and engine.held() == 0


def test_turns_are_settled_in_a_few_steps() -> None:
    """Two threads with 200 s of CPU each: 79,998 forced switches, counted exactly, in a few
    engine steps; they end where switching every 5 ms puts them (A one interval before B)."""
    engine = Engine()
    gil = Gil(engine)
    ends = _bursts(engine, gil, [200 * S, 200 * S])
    engine.run()
    assert ends == [(400 * S - 5 * MS, 0), (400 * S, 1)]
    assert gil.switches == 2 * 40_000 - 2
    assert engine.steps < 20


def test_a_simulated_hour_of_cpu_costs_a_few_steps() -> None:
    """trace sim -n 2 -c 2 --cpu 1000s: the summary of the plain interval-by-interval run
    (both requests end near 2000 s), in a few dozen engine steps instead of 400,000."""
    config = SimConfig(
        requests=2, concurrency=2, workload=inline_workload(cpu=Fixed(1000 * S), io=None)
    )
    result = simulate(config)
    assert result.stats is not None
    assert sorted(result.stats.ended) == [2000 * S - 5 * MS, 2000 * S]
    assert result.gil_switches == 2 * 200_000 - 2
    assert result.engine_steps < 100


def _random_run(seed: int, *, skip: bool) -> tuple[list[tuple[int, Any]], int]:
    """Bursts arriving at random instants (some together, some of zero CPU, some exactly a
    multiple of the interval) on one GIL; returns the ends in order and the switch count."""
    rng = random.Random(seed)
    engine = Engine()
    interval = rng.choice([1, 3, 5 * MS, 7 * MS])
    gil = Gil(engine, interval=interval, skip=skip)
    ends: list[tuple[int, Any]] = []
    unit = interval * rng.choice([1, 2, 10])
    for i in range(rng.randint(1, 12)):
        cpu = rng.choice([0, unit, rng.randint(1, 400) * unit, rng.randint(1, 5000) * interval + 1])
        arrival = rng.choice([0, rng.randint(0, 300) * unit, rng.randint(0, 10**6)])

        def start(index: int, cpu: int = cpu) -> None:
            gil.run(cpu, lambda tag: ends.append((engine.now, tag)), index)

        engine.at(arrival, start, i)
    engine.run()
    return ends, gil.switches


@pytest.mark.parametrize("seed", range(60))
def test_settled_rounds_match_switching_interval_by_interval(seed: int) -> None:
    """Random bursts and arrivals: the same ends, in the same order, and the same number of
    forced switches whether rounds are settled at once or switched one interval at a time."""
    assert _random_run(seed, skip=True) == _random_run(seed, skip=False)


def _overflowing(*, skip: bool) -> tuple[int, list[tuple[int, int]], int]:
    engine = Engine()
    gil = Gil(engine, interval=10**17, skip=skip)
    ends = _bursts(engine, gil, [MAX_DURATION_NS // 2 + 10**17, 10**18, MAX_DURATION_NS // 2])
    with pytest.raises(ClockOverflow) as raised:
        engine.run()
    return raised.value.t, ends, gil.switches


def test_clock_overflow_comes_where_it_would_switching_interval_by_interval() -> None:
    """Bursts that together pass 2^63 ns: the run stops with ``ClockOverflow`` at the same
    instant, after the same ends and switches, whether rounds are settled or not."""
    settled = _overflowing(skip=True)
    assert settled == _overflowing(skip=False)
    assert settled[0] > MAX_DURATION_NS and settled[1] == [(29 * 10**17, 1)]


def test_past_2_63_ns_of_shared_cpu_is_one_line_at_once() -> None:
    """trace sim --io 9000000000s --cpu 9000000000s -n 2 (ten clients): two threads share
    18 x 10^18 ns of CPU, so the run reaches the documented one-line stop (exit code 2) at
    once instead of switching threads 10^12 times."""
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "sim", "--io", "9000000000s", "--cpu", "9000000000s"]
        + ["-n", "2", "--no-record", "--headless"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "2^63-1 ns" in lines[0] and "about 292 years" in lines[0]
    assert "Traceback" not in done.stderr

"""Processes computing on unlimited cores: their GIL turns are settled many intervals at a step
(``sim.own_cores``), with exactly what switching interval by interval gives: the same ends in
the same order, the same switch counts, the same recording byte for byte."""

from __future__ import annotations

import functools
import random
from pathlib import Path
from typing import Any

import pytest

import sim.models.wsgi
from sim import SimConfig, simulate
from sim.dist import Exponential, Fixed, LogNormal, Uniform
from sim.engine import Engine
from sim.gil import Gil
from sim.own_cores import OwnCores
from sim.simulation import SIM_EPOCH_NS
from sim.workload import inline_workload
from tracer.recorder import Recorder

MS = 1_000_000
S = 1000 * MS


def _random_run(seed: int, *, skip: bool) -> tuple[list[tuple[int, Any]], list[int], int]:
    """Processes (a GIL each, unlimited cores) given bursts long and short at random instants,
    some on the same instants as switches; a burst's end may start another at once or a few
    intervals later, so the order of ends and switches at one instant shows. Returns the ends
    in order, each GIL's switches and the engine steps."""
    rng = random.Random(seed)
    engine = Engine()
    interval = rng.choice([1, 3, 64, 999, 1000, 5 * MS])
    own = OwnCores()
    gils = [
        Gil(engine, interval=interval, own_cores=own, skip=skip) for _ in range(rng.randint(2, 6))
    ]
    ends: list[tuple[int, Any]] = []
    unit = interval * rng.choice([1, 2, 10])
    budget = [rng.randint(0, 12)]

    def start(tag: Any) -> None:
        gil = rng.choice(gils)
        cpu = rng.choice(
            [0, 1, unit, rng.randint(1, 400) * unit, rng.randint(1, 3000) * interval + tag[0]]
        )
        gil.run(cpu, end, tag)

    def end(tag: Any) -> None:
        ends.append((engine.now, tag))
        if budget[0] > 0:
            budget[0] -= 1
            follow = (tag[0], tag[1] + 1)
            if rng.random() < 0.5:
                start(follow)
            else:
                engine.after(rng.choice([0, unit, rng.randint(1, 50) * interval]), start, follow)

    for i in range(rng.randint(2, 16)):
        arrival = rng.choice([0, rng.randint(0, 300) * unit, rng.randint(0, 10**6)])
        engine.at(arrival, start, (i, 0))
    engine.run()
    return ends, [gil.switches for gil in gils], engine.steps


def test_own_cores_settled_match_switching_interval_by_interval() -> None:
    """Random bursts on 2 to 6 processes with unlimited cores, switch intervals from 1 ns to
    5 ms: the same ends, in the same order, and the same forced switches whether turns are
    settled or switched one interval at a time; and settling saves steps in many runs."""
    saved = 0
    for seed in range(200):
        settled, plain = _random_run(seed, skip=True), _random_run(seed, skip=False)
        assert settled[:2] == plain[:2], seed
        saved += settled[2] < plain[2] // 2
    assert saved > 40


def _recording(tmp_path: Path, name: str, config: SimConfig) -> tuple[bytes, Any]:
    recorder = Recorder(
        tmp_path / name, clock=lambda: 0, wall_clock=lambda: SIM_EPOCH_NS, start_ns=0
    )
    result = simulate(config, recorder=recorder)
    recorder.close()
    return (tmp_path / name).read_bytes(), result


_WORKLOADS = {
    "lognormal": inline_workload(cpu=LogNormal(1 * S, 1.0), io=Exponential(20 * MS)),
    # Fixed times: ends, arrivals and switches fall on the same instants.
    "fixed": inline_workload(cpu=Fixed(200 * MS), io=Fixed(5 * MS)),
    "uniform": inline_workload(cpu=Uniform(50 * MS, 500 * MS), io=None),
}


@pytest.mark.parametrize(
    "workers,threads,seed,workload",
    [
        (4, 3, 0, "lognormal"),
        (3, 2, 1, "lognormal"),
        (6, 3, 2, "lognormal"),
        (2, 4, 3, "lognormal"),
        (4, 2, 4, "fixed"),
        (3, 3, 5, "fixed"),
        (5, 2, 6, "uniform"),
        (3, 4, 7, "uniform"),
    ],
)
def test_a_recording_is_the_same_byte_for_byte(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
    threads: int,
    seed: int,
    workload: str,
) -> None:
    """trace sim --model processes --workers W --threads T (unlimited cores) with long CPU:
    the recording is the same file whether turns are settled or switched one by one, with the
    same switch count and end, in fewer engine steps."""
    config = SimConfig(
        model="processes",
        workers=workers,
        threads=threads,
        concurrency=threads * workers + 1,
        requests=4 * workers * threads,
        seed=seed,
        workload=_WORKLOADS[workload],
    )
    settled, fast = _recording(tmp_path, "settled.jsonl", config)
    monkeypatch.setattr(sim.models.wsgi, "Gil", functools.partial(Gil, skip=False))
    plain, slow = _recording(tmp_path, "plain.jsonl", config)
    assert settled == plain
    assert (fast.sim_ns, fast.gil_switches) == (slow.sim_ns, slow.gil_switches)
    assert slow.gil_switches > 100
    assert fast.engine_steps < slow.engine_steps


@pytest.mark.parametrize(
    "interval,cpu,switches",
    # 800 s of CPU in 5 ms turns; 1 ms in 1 ns turns (2,000,016 engine steps one by one).
    [(5 * MS, 100 * S, 159_992), (1, 250_000, 1_999_992)],
)
def test_processes_computing_on_unlimited_cores_take_a_few_steps(
    interval: int, cpu: int, switches: int
) -> None:
    """--model processes --workers 4 --threads 2, no --cpus, a request a thread: each process
    computes its two requests at once, so all end at 2 × cpu, with the switches switching one
    interval at a time counts, in a few dozen engine steps (160,016 one by one at 5 ms)."""
    config = SimConfig(
        model="processes",
        workers=4,
        threads=2,
        requests=8,
        concurrency=8,
        switch_interval_ns=interval,
        workload=inline_workload(cpu=Fixed(cpu), io=None),
    )
    result = simulate(config)
    assert (result.sim_ns, result.gil_switches) == (2 * cpu, switches)
    assert result.engine_steps < 200

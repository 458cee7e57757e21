"""Long CPU bursts with ``--cpus``: rounds of threads taking turns are settled at once when the
GIL holder has a core to itself, with the result switching interval by interval gives."""

from __future__ import annotations

import random
from typing import Any

from sim import SimConfig, simulate
from sim.cores import Cores
from sim.dist import Fixed
from sim.engine import Engine
from sim.gil import Gil
from sim.workload import inline_workload
from tracer.recorder import Recorder

MS = 1_000_000
S = 1000 * MS


def _random_run(seed: int, *, skip: bool) -> tuple[list[tuple[int, Any]], list[int], int]:
    """One to three processes (a GIL each) sharing 1 to 4 cores; bursts arrive at random
    instants on random processes. Returns the ends in order, each GIL's switches, the steps."""
    rng = random.Random(seed)
    engine = Engine()
    # Not 1 ns: a holder on a third of a core would gain no whole ns of CPU per turn.
    interval = rng.choice([3, 5 * MS, 7 * MS])
    cores = Cores(engine, rng.randint(1, 4))
    gils = [
        Gil(engine, interval=interval, cores=cores, skip=skip) for _ in range(rng.randint(1, 3))
    ]
    ends: list[tuple[int, Any]] = []
    unit = interval * rng.choice([1, 2, 10])
    for i in range(rng.randint(1, 12)):
        cpu = rng.choice([0, unit, rng.randint(1, 400) * unit, rng.randint(1, 5000) * interval + 1])
        arrival = rng.choice([0, rng.randint(0, 300) * unit, rng.randint(0, 10**6)])
        gil = rng.choice(gils)

        def start(index: int, cpu: int = cpu, gil: Gil = gil) -> None:
            gil.run(cpu, lambda tag: ends.append((engine.now, tag)), index)

        engine.at(arrival, start, i)
    engine.run()
    return ends, [gil.switches for gil in gils], engine.steps


def test_settled_rounds_on_cores_match_switching_interval_by_interval() -> None:
    """Random bursts, processes and cores: the same ends, in the same order, and the same
    forced switches whether rounds are settled at once or switched one interval at a time;
    and settling does save steps where a holder had a core to itself."""
    saved = 0
    for seed in range(150):
        settled, plain = _random_run(seed, skip=True), _random_run(seed, skip=False)
        assert settled[:2] == plain[:2], seed
        saved += settled[2] < plain[2]
    assert saved > 20


def test_turns_on_one_core_are_settled_in_a_few_steps() -> None:
    """Two threads with 200 s of CPU each on one core: they end where they do on unlimited
    cores (A one interval before B), with the switches counted exactly, in a few steps."""
    engine = Engine()
    gil = Gil(engine, cores=Cores(engine, 1))
    ends: list[tuple[int, int]] = []
    for i in range(2):
        gil.run(200 * S, lambda index: ends.append((engine.now, index)), i)
    engine.run()
    assert ends == [(400 * S - 5 * MS, 0), (400 * S, 1)]
    assert gil.switches == 2 * 40_000 - 2
    assert engine.steps < 20


def _recorded(cpus: int | None) -> tuple[list[dict[str, Any]], int, int]:
    config = SimConfig(
        threads=3,
        requests=4,
        concurrency=4,
        cpus=cpus,
        workload=inline_workload(cpu=Fixed(100 * S), io=Fixed(20 * MS)),
    )
    recorder = Recorder()
    result = simulate(config, recorder=recorder)
    return list(recorder.events), result.gil_switches, result.engine_steps


def test_a_process_on_its_own_cores_records_what_unlimited_cores_do() -> None:
    """trace sim --threads 3 -c 4 -n 4 --io 20ms --cpu 100s with --cpus 1 or 2: one process
    only ever has one GIL holder, so every event and the switch count are those of unlimited
    cores, in a few dozen steps rather than one per 5 ms switch (80,000)."""
    plain, switches, steps = _recorded(None)
    assert steps < 200 and switches > 50_000
    for cpus in (1, 2):
        events, cpu_switches, cpu_steps = _recorded(cpus)
        assert events == plain and cpu_switches == switches
        assert cpu_steps < 200

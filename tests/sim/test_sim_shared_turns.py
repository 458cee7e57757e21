"""Processes computing on fewer cores than there are of them: their GIL turns are settled many
intervals at a step, with exactly what switching interval by interval gives (``sim.shared_turns``),
and a switch interval too short for them to progress is refused instead of running for ever."""

from __future__ import annotations

import functools
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import sim.models.wsgi
from sim import SimConfig, simulate
from sim.cores import Cores
from sim.dist import Exponential, Fixed, LogNormal
from sim.engine import Engine
from sim.gil import Gil
from sim.shared_turns import turn_cpu
from sim.simulation import SIM_EPOCH_NS
from sim.workload import inline_workload
from tracer.errors import UsageError
from tracer.recorder import Recorder

MS = 1_000_000
S = 1000 * MS


def _random_run(seed: int, *, skip: bool) -> tuple[list[tuple[int, Any]], list[int], int]:
    """More processes (a GIL each) than cores, bursts long and short arriving at random on
    random processes. Returns the ends in order, each GIL's switches, the engine steps."""
    rng = random.Random(seed)
    engine = Engine()
    interval = rng.choice([64, 999, 1000, 5 * MS, 7 * MS])
    count = rng.randint(1, 4)
    cores = Cores(engine, count)
    gils = [
        Gil(engine, interval=interval, cores=cores, skip=skip)
        for _ in range(rng.randint(2, count + 5))
    ]
    ends: list[tuple[int, Any]] = []
    unit = interval * rng.choice([1, 2, 10])
    for i in range(rng.randint(2, 16)):
        cpu = rng.choice([0, unit, rng.randint(1, 400) * unit, rng.randint(1, 3000) * interval + i])
        arrival = rng.choice([0, rng.randint(0, 300) * unit, rng.randint(0, 10**6)])
        gil = rng.choice(gils)

        def start(index: int, cpu: int = cpu, gil: Gil = gil) -> None:
            gil.run(cpu, lambda tag: ends.append((engine.now, tag)), index)

        engine.at(arrival, start, i)
    engine.run()
    return ends, [gil.switches for gil in gils], engine.steps


def test_shared_turns_settled_match_switching_interval_by_interval() -> None:
    """Random bursts on 2 to 8 processes sharing 1 to 3 cores (shares of a core binary, as
    1/2, and not, as 2/3): the same ends, in the same order, and the same forced switches
    whether turns are settled or switched one interval at a time; and settling saves steps."""
    saved = 0
    for seed in range(80):
        settled, plain = _random_run(seed, skip=True), _random_run(seed, skip=False)
        assert settled[:2] == plain[:2], seed
        saved += settled[2] < plain[2] // 2
    assert saved > 20


def _recording(tmp_path: Path, name: str, config: SimConfig) -> tuple[bytes, Any]:
    recorder = Recorder(
        tmp_path / name, clock=lambda: 0, wall_clock=lambda: SIM_EPOCH_NS, start_ns=0
    )
    result = simulate(config, recorder=recorder)
    recorder.close()
    return (tmp_path / name).read_bytes(), result


@pytest.mark.parametrize(
    "workers,cpus,seed",
    [(4, 2, 0), (4, 2, 1), (3, 2, 2), (3, 2, 3), (5, 2, 4), (8, 3, 5)],
)
def test_a_recording_is_the_same_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int, cpus: int, seed: int
) -> None:
    """trace sim --model processes --threads 3 --workers W --cpus C with long random CPU and
    I/O: the recording is the same file whether turns are settled or switched one by one,
    with the same switch count, in fewer engine steps."""
    config = SimConfig(
        model="processes",
        workers=workers,
        threads=3,
        cpus=cpus,
        concurrency=3 * workers,
        requests=4 * workers,
        seed=seed,
        workload=inline_workload(cpu=LogNormal(1 * S, 1.0), io=Exponential(20 * MS)),
    )
    settled, fast = _recording(tmp_path, "settled.jsonl", config)
    monkeypatch.setattr(sim.models.wsgi, "Gil", functools.partial(Gil, skip=False))
    plain, slow = _recording(tmp_path, "plain.jsonl", config)
    assert settled == plain
    assert fast.gil_switches == slow.gil_switches > 1000
    assert fast.engine_steps < slow.engine_steps


@pytest.mark.parametrize(
    "workers,end_ns,switches",
    # 2/3 of a 5 ms turn is 3,333,333.3 ns: each turn takes the whole ns (as one by one).
    [(4, 400 * S, 319_992), (3, 300 * S + 30_000, 180_000)],
)
def test_long_bursts_on_shared_cores_take_a_few_steps(
    workers: int, end_ns: int, switches: int
) -> None:
    """--threads 2 --workers W --cpus 2 --cpu 100s, a request a thread: 200 W s of CPU on 2
    cores end at 100 W s, with the switches switching one by one counts (320,013 and 180,014
    engine steps that way), in a few dozen engine steps."""
    config = SimConfig(
        model="processes",
        workers=workers,
        threads=2,
        cpus=2,
        requests=2 * workers,
        concurrency=2 * workers,
        workload=inline_workload(cpu=Fixed(100 * S), io=None),
    )
    result = simulate(config)
    assert (result.sim_ns, result.gil_switches) == (end_ns, switches)
    assert result.engine_steps < 200


def test_a_turn_takes_whole_ns_only_when_proved() -> None:
    """The CPU a full turn takes: a binary share is exact (half of 5 ms, of 3 ns); a share of
    2/3 takes the whole ns under interval × 2/3 while rounding cannot reach the next one."""
    assert turn_cpu(5 * MS, 0.5, 4, 100 * S) == 2_500_000
    assert turn_cpu(3, 0.5, 2, 100 * S) == 1
    assert turn_cpu(5 * MS, 2 / 3, 3, 100 * S) == 3_333_333
    # 3 ns at 1/3: exactly 1 ns, which float pieces may fall short of: not proved.
    assert turn_cpu(3, 1 / 3, 3, 100 * S) is None


_WORKERS_2_CPUS_1 = dict(
    model="processes",
    workers=2,
    threads=2,
    cpus=1,
    concurrency=4,
    requests=4,
    workload=inline_workload(cpu=Fixed(1 * MS), io=None),
)


@pytest.mark.parametrize("interval", [1, 3])
def test_a_switch_interval_too_short_for_shared_cores_is_refused(interval: int) -> None:
    """switch_interval_ns=1 with 2 processes on 1 core gave each holder half a ns a turn,
    which rounds to nothing: the run never ended. Now one line names the least interval."""
    config = SimConfig(switch_interval_ns=interval, **_WORKERS_2_CPUS_1)  # type: ignore[arg-type]
    with pytest.raises(UsageError) as info:
        config.check()
    assert str(info.value) == (
        f"The GIL switch interval of {interval} ns is too short for 2 processes on 1 core: a "
        f"thread sharing it would get {interval / 2:g} ns of CPU a turn, and needs at least 2 "
        "to be sure to progress; give 4 ns or more."
    )


def test_simulating_with_a_too_short_interval_ends_with_the_refusal() -> None:
    """The library call itself, in a process of its own bounded in time (it used to run for
    ever): it raises the refusal at once."""
    code = (
        "from sim import SimConfig, simulate\n"
        "from sim.dist import Fixed\n"
        "from sim.workload import inline_workload\n"
        "from tracer.errors import UsageError\n"
        "try:\n"
        "    simulate(SimConfig(model='processes', workers=2, threads=2, cpus=1,\n"
        "        concurrency=4, requests=4, switch_interval_ns=1,\n"
        "        workload=inline_workload(cpu=Fixed(1_000_000), io=None)))\n"
        "except UsageError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=20, check=True
    )
    assert done.stdout.startswith("The GIL switch interval of 1 ns is too short")


def test_the_shortest_interval_allowed_ends_in_a_few_steps() -> None:
    """switch_interval_ns=4, 2 processes of 2 threads on 1 core, 1 ms of CPU each: 2 ns a
    turn, 2,000,000 switches (about a minute one by one), settled in a few dozen steps."""
    result = simulate(SimConfig(switch_interval_ns=4, **_WORKERS_2_CPUS_1))  # type: ignore[arg-type]
    assert result.sim_ns == 4 * MS
    assert result.gil_switches == 1_999_996
    assert result.engine_steps < 100


def test_threads_not_sharing_cores_need_no_longer_interval() -> None:
    """The rule is only for threads that take turns on shared cores: one thread a process
    never switches (4 ms of CPU on 1 core), and a core per process or unlimited cores give
    every holder a whole core (1 ns a turn, 4,000,000 switches, settled in a few steps)."""
    one = dict(_WORKERS_2_CPUS_1, threads=1)
    assert simulate(SimConfig(switch_interval_ns=1, **one)).sim_ns == 4 * MS  # type: ignore[arg-type]
    own = simulate(SimConfig(switch_interval_ns=1, **dict(_WORKERS_2_CPUS_1, cpus=2)))  # type: ignore[arg-type]
    assert (own.sim_ns, own.gil_switches) == (2 * MS, 3_999_996)
    assert own.engine_steps < 100
    SimConfig(switch_interval_ns=1, **dict(_WORKERS_2_CPUS_1, cpus=None)).check()  # type: ignore[arg-type]

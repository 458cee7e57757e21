"""sim.cores and ``--cpus``: N cores shared by the GIL holders of every process.

Read from the recorded events (simulated time, deterministic): a request's ``cpu_ns`` is its CPU
demand, its ``sched.thread`` span grows by the time it waited for a core.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim import MODEL_NAMES, SimConfig, load_workload, simulate
from sim.cores import Cores
from sim.engine import Engine
from sim.gil import Gil
from tracer import events as K
from tracer.recorder import Recorder
from tracer.recording import Recording

MS = 1_000_000
ROOT = Path(__file__).resolve().parents[2]
MIXED = load_workload(ROOT / "sim" / "workloads" / "mixed.toml")


def _spans(recording: Recording) -> list[tuple[int, int, int]]:
    """(start, end, cpu_ns) of every ``sched.thread`` span."""
    return [
        (e.t, e.t + (e.dur or 0), e.data["cpu_ns"])
        for e in recording.events
        if e.kind == K.SCHED_THREAD
    ]


def _most_cpu_per_window(spans: list[tuple[int, int, int]]) -> float:
    """The highest CPU time of the spans inside a window divided by the window's length.

    With N cores, the spans that lie wholly inside [a, b] cannot have executed more than
    N * (b - a) of CPU between them, whatever order they ran in; windows from a span's start to
    a span's end are the ones where the bound is tightest.
    """
    most = 0.0
    for a in sorted({start for start, _, _ in spans}):
        for b in sorted({end for _, end, _ in spans if end > a}):
            cpu = sum(c for start, end, c in spans if a <= start and end <= b)
            most = max(most, cpu / (b - a))
    return most


def test_bursts_share_the_cores_equally() -> None:
    """Four 20 ms bursts on 2 cores run at half speed together and all end at 40 ms."""
    engine = Engine()
    cores = Cores(engine, 2)
    done: dict[str, int] = {}
    for name in "abcd":
        cores.run(20 * MS, lambda n: done.setdefault(n, engine.now), name)
    engine.run()
    assert done == {"a": 40 * MS, "b": 40 * MS, "c": 40 * MS, "d": 40 * MS}


def test_a_burst_speeds_up_when_another_ends() -> None:
    """One core, 10 ms and 30 ms: both at half speed until 20 ms, then the long one alone: 40 ms."""
    engine = Engine()
    cores = Cores(engine, 1)
    done: dict[str, int] = {}
    cores.run(10 * MS, lambda n: done.setdefault(n, engine.now), "short")
    cores.run(30 * MS, lambda n: done.setdefault(n, engine.now), "long")
    engine.run()
    assert done == {"short": 20 * MS, "long": 40 * MS}


def test_gils_of_two_processes_share_one_core() -> None:
    """One core: process A's two threads and process B's one take 60 ms of CPU in 60 ms.

    A's threads swap the GIL every 5 ms of wall time, though each ran only half of that: the
    switch interval is wall time; B gets half the core throughout, so its 20 ms end at 40 ms.
    """
    engine = Engine()
    cores = Cores(engine, 1)
    first, second = Gil(engine, cores=cores), Gil(engine, cores=cores)
    done: dict[str, int] = {}
    first.run(20 * MS, lambda n: done.setdefault(n, engine.now), "a1")
    first.run(20 * MS, lambda n: done.setdefault(n, engine.now), "a2")
    second.run(20 * MS, lambda n: done.setdefault(n, engine.now), "b")
    engine.run()
    assert done["b"] == 40 * MS
    assert max(done.values()) == 60 * MS
    assert first.switches > 0 and second.switches == 0


def test_two_cores_run_at_most_two_requests_at_once(recorded: Any) -> None:
    """--cpus 2, 8 single-thread processes, 20 ms of CPU each: two cores' worth of CPU at most.

    Every request still consumes 20 ms of CPU, but waits for a core: 8 share 2, so each takes
    80 ms, and 80 requests take 0.8 s of simulated time, 2 / 20 ms = 100 per second.
    """
    result, recording = recorded(
        model="processes",
        workers=8,
        threads=1,
        concurrency=8,
        requests=80,
        cpu="fixed:20ms",
        cpus=2,
    )
    spans = _spans(recording)
    assert len(spans) == 80
    assert {cpu for _, _, cpu in spans} == {20 * MS}
    assert {end - start for start, end, _ in spans} == {80 * MS}
    assert _most_cpu_per_window(spans) == pytest.approx(2.0)
    assert result.summary["wall_s"] == 0.8 and result.summary["rps"] == 100.0
    assert result.summary["max_in_flight"] == 8  # all 8 are in the app, sharing the cores
    assert recording.header["server"] == {
        "model": "processes",
        "threads": 1,
        "workers": 8,
        "cpus": 2,
    }


def test_without_cpus_each_process_has_a_core(recorded: Any) -> None:
    """No --cpus: the 8 processes compute side by side, 8 cores' worth, as before --cpus."""
    result, recording = recorded(
        model="processes",
        workers=8,
        threads=1,
        concurrency=8,
        requests=80,
        cpu="fixed:20ms",
        cpus=None,
    )
    spans = _spans(recording)
    assert {end - start for start, end, _ in spans} == {20 * MS}
    assert _most_cpu_per_window(spans) == pytest.approx(8.0)
    assert result.summary["wall_s"] == 0.2 and result.summary["rps"] == 400.0
    assert "cpus" not in recording.header["server"]


def test_io_waits_need_no_core(recorded: Any) -> None:
    """One core, 4 processes, 10 ms of CPU then 90 ms of I/O: the CPU is shared (all done at
    40 ms), the I/O waits overlap: every request ends at 130 ms, not 4 x 100 ms."""
    result, recording = recorded(
        model="processes",
        workers=4,
        threads=1,
        concurrency=4,
        requests=4,
        cpu="10ms",
        io="90ms",
        cpus=1,
    )
    spans = _spans(recording)
    assert spans == [(0, 130 * MS, 10 * MS)] * 4
    assert result.summary["wall_s"] == 0.13


def test_threads_of_processes_share_gil_and_cores(recorded: Any) -> None:
    """2 processes x 2 threads on 1 core: 4 x 20 ms of CPU take 80 ms, one core's worth."""
    result, recording = recorded(
        model="processes", workers=2, threads=2, concurrency=4, requests=4, cpu="20ms", cpus=1
    )
    spans = _spans(recording)
    assert {cpu for _, _, cpu in spans} == {20 * MS}
    assert max(end for _, end, _ in spans) == 80 * MS
    assert _most_cpu_per_window(spans) <= 1.0 + 1e-9
    assert result.gil_switches > 0


GOLDEN = {
    # The summaries of these runs before --cpus existed (seed 11, mixed.toml, -c 12 -n 300):
    # (wall_s, rps, latency mean, p99, max, queue mean, max_in_flight, loop_blocked_ms).
    "threads": (3.165, 94.8, 123.668, 243.869, 283.738, 82.044, 4, 0.0),
    "processes": (1.099, 273.0, 42.109, 162.397, 217.858, 0.0, 12, 0.0),
    "loop": (2.203, 136.2, 86.792, 203.344, 258.158, 17.582, 12, 1345.425),
    "wsgi-on-loop": (10.83, 27.7, 426.641, 733.732, 806.868, 390.541, 1, 0.0),
}


def _figures(summary: dict[str, Any]) -> tuple[Any, ...]:
    latency = summary["latency_ms"]
    return (
        summary["wall_s"],
        summary["rps"],
        latency["mean"],
        latency["p99"],
        latency["max"],
        summary["queue_ms"]["mean"],
        summary["max_in_flight"],
        summary["loop_blocked_ms"],
    )


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_no_cpus_gives_the_results_of_before(model: str) -> None:
    """cpus=None (the default) is unlimited cores: the same summary as before cores existed,
    and the same events as leaving it out."""
    # 3 x 4 threads: the figures were taken when 4 was the simulator's default for processes.
    workers = {"workers": 3, "threads": 4} if model == "processes" else {}
    config = SimConfig(
        model=model, workload=MIXED, concurrency=12, requests=300, seed=11, **workers
    )  # type: ignore[arg-type]
    unlimited = config.with_value("cpus", None)
    assert _figures(simulate(unlimited).summary) == GOLDEN[model]
    default, explicit = Recorder(), Recorder()
    simulate(config, recorder=default)
    simulate(unlimited, recorder=explicit)
    assert default.recording().events == explicit.recording().events
    assert "cpus" not in explicit.header["server"]


def _same_run(config: SimConfig, cpus: int) -> None:
    """``config`` with ``cpus`` cores records the very events it records with unlimited ones."""
    unlimited, limited = Recorder(), Recorder()
    first = simulate(config, recorder=unlimited)
    second = simulate(config.with_value("cpus", cpus), recorder=limited)
    assert second.summary == first.summary
    assert limited.recording().events == unlimited.recording().events
    assert limited.header["server"] == {**unlimited.header["server"], "cpus": cpus}


@pytest.mark.parametrize("model", ["threads", "loop", "wsgi-on-loop"])
def test_one_process_is_unaffected_by_one_core(model: str) -> None:
    """--cpus 1 changes nothing for a one-process model: its GIL already runs one thread."""
    _same_run(SimConfig(model=model, workload=MIXED, concurrency=20, requests=400, seed=5), 1)


@pytest.mark.parametrize("cpus", [4, 5, 64])
def test_processes_are_unaffected_when_cores_cover_workers(cpus: int) -> None:
    """--cpus >= --workers: every process's running thread has a core of its own."""
    config = SimConfig(
        model="processes", workers=4, threads=2, workload=MIXED, concurrency=20, requests=400
    )
    _same_run(config, cpus)


def test_fewer_cores_than_workers_slow_processes_down() -> None:
    """CPU-heavy routes on 4 processes: 2 cores lower the throughput and raise the latency."""
    config = SimConfig(
        model="processes", workers=4, threads=2, workload=MIXED, concurrency=20, requests=400
    )
    free, two = simulate(config).summary, simulate(config.with_value("cpus", 2)).summary
    assert two["rps"] < free["rps"] and two["latency_ms"]["p99"] > free["latency_ms"]["p99"]


@pytest.mark.parametrize("cpus", [0, -1, 8193, 2.0, True, "2"])
def test_bad_cpus_in_the_config(cpus: Any) -> None:
    """SimConfig(cpus=...) outside 1..8192 (or not an int) is a UsageError naming --cpus."""
    from tracer.errors import UsageError

    with pytest.raises(UsageError, match="--cpus must be a whole number from 1 to 8192"):
        simulate(SimConfig(cpus=cpus))

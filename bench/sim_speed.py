"""How fast the simulator runs: simulated requests per second of real time, side by side.

Variants, each the median of several repeats (the machine is shared and noisy):
- ``engine``: sim.simulate, stats only, on the threads / loop models and an open M/M/4 queue;
- ``simpy``: the same closed-loop threads model written with SimPy (Resource + processes),
  the well-kept library the simulator could have been built on;
- ``recording``: sim.simulate into a Recorder (in memory, and streaming to a .jsonl file),
  with the time the recorder spends turning events into lines measured on its own;
- ``long bursts``: two threads sharing 1000 s of CPU each (400,000 forced GIL switches), with
  unlimited cores and on ``--cpus 1``: rounds of turns are settled at once both ways, since one
  process's GIL holder has a core to itself;
- ``shared cores``: processes computing on fewer cores than there are of them, two threads
  each with 100 s of CPU (``--workers 4 --cpus 2``, a share of 1/2, and ``--workers 3 --cpus
  2``, 2/3): their turns are settled many intervals at a step too (``sim.shared_turns``);
  and the ``processes 4x4`` run on ``--cpus 2``, where little can be settled, for what trying
  costs;
- ``own cores``: the same four processes on unlimited cores (no ``--cpus``), each computing on
  a core of its own, at CPython's 5 ms switch interval and at 1 ns (library only): their turns
  are settled many intervals at a step too (``sim.own_cores``).
Target: 100,000 simulated requests in <= 5 s, stats only. Run: ``python bench/sim_speed.py``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim import SimConfig, simulate  # noqa: E402
from sim.dist import Exponential, Fixed  # noqa: E402
from sim.simulation import SIM_EPOCH_NS  # noqa: E402
from sim.workload import inline_workload  # noqa: E402
from tracer.gc_pause import paused_gc  # noqa: E402
from tracer.recorder import Recorder  # noqa: E402

N = 100_000
REPEATS = int(os.environ.get("REPEATS", "3"))
MS = 1_000_000


def median_time(run: Callable[[], object], repeats: int = REPEATS) -> float:
    """Median wall time of ``run()`` over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def simpy_threads(n: int, threads: int = 4, clients: int = 10, io_ns: int = 100 * MS) -> float:
    """The closed-loop ``threads`` model with I/O-only work, in SimPy; returns mean latency (ms)."""
    import simpy

    env = simpy.Environment()
    pool = simpy.Resource(env, capacity=threads)
    issued = [0]
    latencies: list[int] = []

    def client(env: simpy.Environment) -> object:
        while issued[0] < n:
            issued[0] += 1
            arrived = env.now
            with pool.request() as slot:
                yield slot
                yield env.timeout(io_ns)
            latencies.append(env.now - arrived)

    for _ in range(clients):
        env.process(client(env))
    env.run()
    return sum(latencies) / len(latencies) / MS


def main() -> None:
    """Print one table: variant, median seconds for N requests, simulated requests per second."""
    io_only = SimConfig(model="threads", requests=N)
    loop = SimConfig(
        model="loop",
        requests=N,
        concurrency=50,
        workload=inline_workload(cpu=Exponential(MS), io=Exponential(50 * MS)),
    )
    mm4 = SimConfig(
        model="threads",
        threads=4,
        rate=320.0,
        requests=N,
        workload=inline_workload(io=Exponential(10 * MS)),
    )
    processes = SimConfig(
        model="processes",
        workers=4,
        threads=4,
        concurrency=64,
        requests=N,
        workload=inline_workload(cpu=Fixed(2 * MS), io=Exponential(20 * MS)),
    )

    # Same model, same answer: the SimPy version is the reference for the comparison.
    assert (
        round(simpy_threads(2000), 3)
        == simulate(io_only.with_value("requests", 2000)).summary["latency_ms"]["mean"]
    )

    rows: list[tuple[str, float]] = [
        ("engine  threads, closed loop, io", median_time(lambda: simulate(io_only))),
        ("simpy   threads, closed loop, io", median_time(lambda: simpy_threads(N))),
        ("engine  open M/M/4 (Poisson)", median_time(lambda: simulate(mm4))),
        ("engine  loop, cpu+io, c=50", median_time(lambda: simulate(loop))),
        ("engine  processes 4x4 (GIL), c=64", median_time(lambda: simulate(processes))),
        (
            "engine  processes 4x4 (GIL), c=64, --cpus 2",
            median_time(lambda: simulate(processes.with_value("cpus", 2))),
        ),
    ]

    def recorded_in_memory() -> None:
        recorder = Recorder()
        simulate(loop, recorder=recorder)
        with paused_gc():
            recorder.drain()

    rows.append(("engine  loop + Recorder() in memory", median_time(recorded_in_memory)))

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sim.jsonl"
        sim_only: list[float] = []
        total: list[float] = []
        write: list[float] = []
        events = 0
        for _ in range(REPEATS):
            recorder = Recorder(
                path,
                clock=lambda: 0,
                wall_clock=lambda: SIM_EPOCH_NS,
                start_ns=0,
                flush_interval=3600,
            )
            start = time.perf_counter()
            result = simulate(loop, recorder=recorder)
            simulated = time.perf_counter()
            with paused_gc():  # as trace sim does
                recorder.close()  # the writer thread waits (long interval): all writing is here
            done = time.perf_counter()
            sim_only.append(simulated - start)
            write.append(done - simulated)
            total.append(done - start)
            events = result.events
        size = path.stat().st_size
    rows.append(("engine  loop, emitting into a file Recorder", statistics.median(sim_only)))
    rows.append(("        ...the recorder writing those lines", statistics.median(write)))
    rows.append(("engine  loop + file recording, total", statistics.median(total)))

    print(f"{N:,} simulated requests each; median of {REPEATS}; target <= 5 s stats only")
    print(f"{'variant':48} {'seconds':>8} {'req/s':>10} {'vs engine':>10}")
    base = rows[0][1]
    for name, seconds in rows:
        print(f"{name:48} {seconds:8.2f} {N / seconds:10,.0f} {seconds / base:9.2f}x")
    print(
        f"recording: {events:,} events, {size / 1e6:.1f} MB, {events / statistics.median(write):,.0f} events/s written"
    )
    long_bursts()
    shared_cores()
    own_cores()


def long_bursts() -> None:
    """Print the cost of two requests with 1000 s of CPU each on one GIL (``trace sim -n 2
    -c 2 --cpu 1000s``), with unlimited cores and with one core."""
    print("long bursts: -n 2 -c 2 --cpu 1000s")
    for cpus in (None, 1):
        config = SimConfig(
            requests=2,
            concurrency=2,
            cpus=cpus,
            workload=inline_workload(cpu=Fixed(1000 * 1000 * MS), io=None),
        )
        start = time.perf_counter()
        result = simulate(config)
        seconds = time.perf_counter() - start
        print(
            f"  cpus {cpus or 'unlimited':>9}: {seconds:6.2f} s, {result.engine_steps:,} engine "
            f"steps, {result.gil_switches:,} switches, ends at {result.sim_ns / 1e9:,.3f} s"
        )


def shared_cores() -> None:
    """Print the cost of processes with two threads of 100 s of CPU each sharing fewer cores
    (``trace sim --model processes --threads 2 --workers W --cpus 2 -c 2W -n 2W --cpu 100s``)."""
    print("shared cores: --model processes --threads 2 --cpus 2 --cpu 100s, a request a thread")
    for workers in (4, 3):
        config = SimConfig(
            model="processes",
            workers=workers,
            threads=2,
            cpus=2,
            requests=2 * workers,
            concurrency=2 * workers,
            workload=inline_workload(cpu=Fixed(100 * 1000 * MS), io=None),
        )
        start = time.perf_counter()
        result = simulate(config)
        seconds = time.perf_counter() - start
        print(
            f"  workers {workers}: {seconds:6.2f} s, {result.engine_steps:,} engine steps, "
            f"{result.gil_switches:,} switches, ends at {result.sim_ns / 1e9:,.3f} s"
        )


def own_cores() -> None:
    """Print the cost of four processes with two threads each computing on unlimited cores
    (``trace sim --model processes --threads 2 --workers 4 -c 8 -n 8 --cpu 100s``), and of
    the same with a 1 ns switch interval and 1 ms of CPU a request."""
    print(
        "own cores: --model processes --threads 2 --workers 4, unlimited cores, a request a thread"
    )
    for interval, cpu_ns in ((5 * MS, 100 * 1000 * MS), (1, MS)):
        config = SimConfig(
            model="processes",
            workers=4,
            threads=2,
            requests=8,
            concurrency=8,
            switch_interval_ns=interval,
            workload=inline_workload(cpu=Fixed(cpu_ns), io=None),
        )
        start = time.perf_counter()
        result = simulate(config)
        seconds = time.perf_counter() - start
        print(
            f"  interval {interval:>9,} ns, cpu {cpu_ns / 1e9:g} s: {seconds:6.2f} s, "
            f"{result.engine_steps:,} engine steps, {result.gil_switches:,} switches, "
            f"ends at {result.sim_ns / 1e9:,.3f} s"
        )


if __name__ == "__main__":
    if {"-h", "--help"} & set(sys.argv[1:]):
        print((__doc__ or "").strip())  # it takes no options: say what it does, run nothing
    else:
        main()

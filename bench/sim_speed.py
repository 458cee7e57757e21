"""How fast the simulator runs: simulated requests per second of real time, side by side.

Variants, each the median of several repeats (the machine is shared and noisy):
- ``engine``: sim.simulate, stats only, on the threads / loop models and an open M/M/4 queue;
- ``simpy``: the same closed-loop threads model written with SimPy (Resource + processes),
  the well-kept library the simulator could have been built on;
- ``recording``: sim.simulate into a Recorder (in memory, and streaming to a .jsonl file),
  with the time the recorder spends turning events into lines measured on its own: the time
  inside every drain of the file recorder, wherever it is called from (``sim/emit.py`` drains
  it during ``simulate()`` once the backlog is large; ``close()`` drains the rest), so the
  "emitting" row is the simulation without its drains and "events/s written" is the events
  over the time spent writing them;
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
Target: 100,000 simulated requests in <= 5 s, stats only.

    python bench/sim_speed.py [--requests 100000] [--repeats 3]

(``--repeats`` replaces the ``REPEATS`` environment variable of earlier versions, which is no
longer read.) Counts must be positive; a usage mistake is one line and exit code 2.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cli import Parser, positive_int  # noqa: E402

from sim import SimConfig, simulate  # noqa: E402
from sim.dist import Exponential, Fixed  # noqa: E402
from sim.simulation import SIM_EPOCH_NS  # noqa: E402
from sim.workload import inline_workload  # noqa: E402
from tracer.events import Event  # noqa: E402
from tracer.gc_pause import paused_gc  # noqa: E402
from tracer.recorder import Recorder  # noqa: E402

MS = 1_000_000


class TimedRecorder(Recorder):
    """A file ``Recorder`` that adds up the time spent in its drains and the events they
    moved, whichever code calls them (the simulator's own drains, ``close()``)."""

    drains_packed_rows = True  # its drain is Recorder's own: the sink stays the fast one

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.drain_s = 0.0
        self.drained = 0

    def drain(self) -> list[Event]:
        """``Recorder.drain``, timed."""
        start = time.perf_counter()
        batch = super().drain()
        self.drain_s += time.perf_counter() - start
        self.drained += len(batch)
        return batch


def median_time(run: Callable[[], object], repeats: int) -> float:
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


def main(argv: list[str] | None = None) -> None:
    """Print one table: variant, median seconds for N requests, simulated requests per second."""
    parser = Parser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--requests", type=positive_int, default=100_000, help="simulated requests per run"
    )
    parser.add_argument("--repeats", type=positive_int, default=3, help="runs (medians taken)")
    args = parser.parse_args(argv)
    n, repeats = args.requests, args.repeats
    io_only = SimConfig(model="threads", requests=n)
    loop = SimConfig(
        model="loop",
        requests=n,
        concurrency=50,
        workload=inline_workload(cpu=Exponential(MS), io=Exponential(50 * MS)),
    )
    mm4 = SimConfig(
        model="threads",
        threads=4,
        rate=320.0,
        requests=n,
        workload=inline_workload(io=Exponential(10 * MS)),
    )
    processes = SimConfig(
        model="processes",
        workers=4,
        threads=4,
        concurrency=64,
        requests=n,
        workload=inline_workload(cpu=Fixed(2 * MS), io=Exponential(20 * MS)),
    )

    # Same model, same answer: the SimPy version is the reference for the comparison.
    assert (
        round(simpy_threads(2000), 3)
        == simulate(io_only.with_value("requests", 2000)).summary["latency_ms"]["mean"]
    )

    def timed(run: Callable[[], object]) -> float:
        return median_time(run, repeats)

    rows: list[tuple[str, float]] = [
        ("engine  threads, closed loop, io", timed(lambda: simulate(io_only))),
        ("simpy   threads, closed loop, io", timed(lambda: simpy_threads(n))),
        ("engine  open M/M/4 (Poisson)", timed(lambda: simulate(mm4))),
        ("engine  loop, cpu+io, c=50", timed(lambda: simulate(loop))),
        ("engine  processes 4x4 (GIL), c=64", timed(lambda: simulate(processes))),
        (
            "engine  processes 4x4 (GIL), c=64, --cpus 2",
            timed(lambda: simulate(processes.with_value("cpus", 2))),
        ),
    ]

    def recorded_in_memory() -> None:
        recorder = Recorder()
        simulate(loop, recorder=recorder)
        with paused_gc():
            recorder.drain()

    rows.append(("engine  loop + Recorder() in memory", timed(recorded_in_memory)))

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sim.jsonl"
        emitting: list[float] = []
        total: list[float] = []
        write: list[float] = []
        events = during = 0
        for _ in range(repeats):
            # The writer thread waits (long interval): every drain runs on this thread, timed
            # by the recorder, whether the simulator or close() asks for it.
            recorder = TimedRecorder(
                path,
                clock=lambda: 0,
                wall_clock=lambda: SIM_EPOCH_NS,
                start_ns=0,
                flush_interval=3600,
            )
            start = time.perf_counter()
            result = simulate(loop, recorder=recorder)
            simulated = time.perf_counter()
            in_simulate_s, during = recorder.drain_s, recorder.drained
            with paused_gc():  # as trace sim does
                recorder.close()
            done = time.perf_counter()
            emitting.append(simulated - start - in_simulate_s)
            write.append(in_simulate_s + done - simulated)
            total.append(done - start)
            events = result.events
            assert recorder.drained == events, (recorder.drained, events)
        size = path.stat().st_size
    rows.append(("engine  loop, emitting into a file Recorder", statistics.median(emitting)))
    rows.append(("        ...the recorder writing those lines", statistics.median(write)))
    rows.append(("engine  loop + file recording, total", statistics.median(total)))

    print(f"{n:,} simulated requests each; median of {repeats}; target <= 5 s stats only")
    print(f"{'variant':48} {'seconds':>8} {'req/s':>10} {'vs engine':>10}")
    base = rows[0][1]
    for name, seconds in rows:
        print(f"{name:48} {seconds:8.2f} {n / seconds:10,.0f} {seconds / base:9.2f}x")
    print(
        f"recording: {events:,} events, {size / 1e6:.1f} MB, "
        f"{events / statistics.median(write):,.0f} events/s written "
        f"(drains: {during:,} events during simulate(), {events - during:,} in close())"
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
    main()

"""Pool sizes: threads and processes are made only when a request needs one, so a huge
``--threads`` or ``--workers`` costs what the requests use; sizes past what Linux can run (and
durations past 2^63 ns) are a ``UsageError`` from ``SimConfig.check``, before anything runs."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sim import SimConfig, simulate
from sim.arrivals import MAX_CLIENTS
from sim.dist import MAX_DURATION_NS, parse_dist, parse_duration
from sim.sweep import sweep
from sim.workers import MAX_THREADS
from tracer import events as K
from tracer.errors import UsageError

MS = 1_000_000


def _lanes(recording: Any) -> set[tuple[int, int, str]]:
    return {(e.pid, e.tid, e.thread) for e in recording.events}


def test_usual_sizes_keep_their_lanes(recorded: Any) -> None:
    """--threads 4 with 50 clients: the main thread and waitress-0..3, tids 1..5, as ever."""
    _, recording = recorded(model="threads", threads=4, concurrency=50, requests=200, io="10ms")
    assert _lanes(recording) == {(1000, 1, "MainThread")} | {
        (1000, 2 + i, f"waitress-{i}") for i in range(4)
    }


def test_processes_spread_before_a_second_thread(recorded: Any) -> None:
    """3 processes × 2 threads, 6 clients: each request goes to the process with the most free
    threads (the first of those tied), so every process gets its first executor thread before
    any gets a second, as when all six threads existed from the start."""
    _, recording = recorded(
        model="processes", workers=3, threads=2, concurrency=6, requests=6, io="10ms"
    )
    starts = [(e.pid, e.thread) for e in recording.events if e.kind == K.REQUEST_START]
    assert starts == [
        (1000, "ThreadPoolExecutor-0_0"),
        (1001, "ThreadPoolExecutor-0_0"),
        (1002, "ThreadPoolExecutor-0_0"),
        (1000, "ThreadPoolExecutor-0_1"),
        (1001, "ThreadPoolExecutor-0_1"),
        (1002, "ThreadPoolExecutor-0_1"),
    ]


def test_a_huge_pool_has_only_the_threads_that_ran(recorded: Any) -> None:
    """--threads MAX_THREADS, 50 clients: 50 worker threads (the peak in flight), not millions;
    the header still says how many the server had."""
    result, recording = recorded(
        model="threads", threads=MAX_THREADS, concurrency=50, requests=200, io="10ms"
    )
    workers = {(pid, tid) for pid, tid, name in _lanes(recording) if name != "MainThread"}
    assert workers == {(1000, 2 + i) for i in range(50)}
    assert result.header["server"]["threads"] == MAX_THREADS
    assert result.summary["completed"] == 200 and result.summary["queue_ms"]["max"] == 0.0


def test_a_million_processes_are_the_ten_that_ran(recorded: Any) -> None:
    """--workers 1,000,000, -n 10: ten processes (pids 1000..1009), each serving on its main
    thread as gunicorn's sync worker does."""
    result, recording = recorded(model="processes", workers=1_000_000, concurrency=10, requests=10)
    assert {(e.pid, e.tid) for e in recording.events} == {(1000 + p, 1) for p in range(10)}
    assert result.header["server"]["workers"] == 1_000_000


def test_clients_that_never_send_are_not_scheduled() -> None:
    """-c 1,000,000 -n 10: the first ten clients send the ten requests; the engine runs a few
    dozen steps, not a million."""
    result = simulate(SimConfig(concurrency=1_000_000, requests=10, threads=10))
    assert result.summary["completed"] == 10 and result.summary["max_in_flight"] == 10
    assert result.engine_steps < 100
    same = simulate(SimConfig(concurrency=10, requests=10, threads=10))
    assert result.summary == same.summary


@pytest.mark.parametrize(
    "options,says",
    [
        ({"threads": MAX_THREADS + 1}, "--threads must be a whole number from 1 to 4,194,304"),
        ({"threads": 10**8}, "not 100,000,000"),
        ({"model": "processes", "workers": 5_000_000}, "--workers must be a whole number"),
        ({"model": "processes", "workers": 10**6, "threads": 5}, "5,000,000 threads, more than"),
        ({"model": "loop", "pool_size": 10**8}, "--pool-size must be a whole number from 1"),
        ({"concurrency": MAX_CLIENTS + 1}, "--concurrency must be a whole number from 1 to 1,04"),
        ({"rate": 1e-300}, "--rate 1e-300 is too low"),
    ],
)
def test_absurd_sizes_are_a_usage_error(options: dict[str, Any], says: str) -> None:
    """The library refuses them before it allocates or runs anything."""
    config = SimConfig(**options)
    with pytest.raises(UsageError, match=re.escape(says)) as error:
        config.check()
    assert "\n" not in str(error.value)
    with pytest.raises(UsageError):
        simulate(config)


def test_the_largest_sizes_are_accepted() -> None:
    """At the bounds: no error (and nothing is made for the sizes themselves)."""
    SimConfig(threads=MAX_THREADS, pool_size=MAX_THREADS, concurrency=MAX_CLIENTS).check()
    SimConfig(model="processes", workers=MAX_THREADS, threads=1).check()
    SimConfig(model="processes", workers=1024, threads=4096).check()
    # A model the option does not apply to does not multiply it.
    SimConfig(model="threads", workers=MAX_THREADS, threads=MAX_THREADS).check()


def test_a_sweep_checks_every_value_before_the_first_row() -> None:
    """threads=1,2,100000000: refused at once, naming the bad value."""
    config = SimConfig(requests=10)
    with pytest.raises(UsageError, match="not 100,000,000"):
        sweep(config, "threads", [1, 2, 10**8])


@pytest.mark.parametrize("text", ["1e300s", "1e12s", "exp:1e299s", "uniform:1ms..1e300s"])
def test_durations_past_2_63_ns_are_a_usage_error(text: str) -> None:
    """1e300s overflowed to an infinite float, a traceback where it was rounded or drawn."""
    with pytest.raises(UsageError, match="too long; durations go up to about 292 years"):
        parse_dist(text, what="--io")


def test_the_longest_durations_are_accepted() -> None:
    """Up to 2^63 ns is taken (9e9 s is 285 years), and an exponential draw stays finite;
    a run whose clock would pass 2^63 ns (a draw of 386 years among three) is refused, not
    recorded with times past 64 bits."""
    from sim.engine import ClockOverflow

    assert parse_duration("9e9s") == 9 * 10**18
    assert parse_duration("9.2e18ns") == 9_200_000_000_000_000_000 < MAX_DURATION_NS
    with pytest.raises(UsageError, match="too long"):
        parse_duration("9.3e18ns")
    result = simulate(SimConfig(requests=1, workload=_one(parse_dist("exp:9e9s"))))
    assert result.summary["completed"] == 1
    with pytest.raises(ClockOverflow, match="fell due at about 386 years"):
        simulate(SimConfig(requests=3, workload=_one(parse_dist("exp:9e9s"))))


def _one(dist: Any) -> Any:
    from sim.workload import inline_workload

    return inline_workload(io=dist)

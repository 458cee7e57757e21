"""``--model loop --workers N``: uvicorn's worker processes, each its own loop, pool and GIL.

The shapes are read from the recorded events (which process ran what, which blocks overlap,
whom a block delayed), in simulated time, never from the wall clock.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest

from sim import SimConfig, simulate
from sim.workload import workload_from_dict
from tracer import events as K
from tracer.cli import main
from tracer.recorder import Recorder
from tracer.recording import Recording

MS = 1_000_000


def _blocks_by_pid(recording: Recording) -> dict[int, list[tuple[int, int]]]:
    """Each process's ``loop.blocked`` spans ``(start, end)``, in time order."""
    spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for event in recording.events:
        if event.kind == K.LOOP_BLOCKED:
            assert event.dur is not None
            spans[event.pid].append((event.t, event.t + event.dur))
    return {pid: sorted(found) for pid, found in spans.items()}


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _starts(recording: Recording) -> dict[int, Any]:
    """Request id -> its ``request.start`` event."""
    return {e.req: e for e in recording.events if e.kind == K.REQUEST_START}


@pytest.mark.parametrize("workers", [1, 4])
def test_blocking_steps_overlap_across_processes_never_within_one(
    recorded: Any, workers: int
) -> None:
    """A blocking call at concurrency 8: one loop runs one blocking step at a time; four
    processes run four at once, never two on one loop."""
    _, recording = recorded(
        model="loop", workers=workers, concurrency=8, requests=32, blocking_io="50ms"
    )
    starts = _starts(recording)
    pids = sorted({e.pid for e in starts.values()})
    assert pids == [1000 + p for p in range(workers)]
    # Every process runs its requests on its own loop thread, tid 2, as one process does.
    assert {(e.tid, e.thread) for e in starts.values()} == {(2, "event-loop")}
    blocks = _blocks_by_pid(recording)
    assert sorted(blocks) == pids
    assert sum(len(spans) for spans in blocks.values()) == 32  # each request blocked once
    for spans in blocks.values():  # one loop: its blocking steps one after the other
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    across = [
        (p, q)
        for p in pids
        for q in pids
        if p < q and any(_overlap(a, b) for a in blocks[p] for b in blocks[q])
    ]
    if workers == 1:
        assert across == []
    else:  # every pair of processes blocked at the same time at some point
        assert len(across) == workers * (workers - 1) // 2
    # Waiting requests are taken in the order they came.
    order = [e.req for e in recording.events if e.kind == K.REQUEST_START]
    assert order == sorted(order)


def test_a_block_delays_only_its_own_process_requests() -> None:
    """Requests back from an awaited sleep are on their own process's loop: a block names
    those of its process (there are some), none of another's."""
    workload = workload_from_dict(
        {"name": "w", "route": [{"name": "r", "phases": [{"io": "5ms"}, {"blocking-io": "30ms"}]}]},
        where="test",
    )
    recorder = Recorder()
    config = SimConfig(model="loop", workers=2, concurrency=8, requests=40, workload=workload)
    simulate(config, recorder=recorder)
    recording = recorder.recording()
    starts = _starts(recording)
    delayed = 0
    for event in recording.events:
        if event.kind == K.LOOP_BLOCKED:
            for req in event.data["delayed"]:
                assert (starts[req].pid, starts[req].tid) == (event.pid, event.tid)
                delayed += 1
    assert delayed > 0
    assert {e.pid for e in starts.values()} == {1000, 1001}


def test_each_process_has_its_own_pool_threads(recorded: Any) -> None:
    """An offloaded call runs on a pool thread of the process whose loop sent it."""
    workload = workload_from_dict(
        {
            "name": "w",
            "route": [
                {"name": "r", "phases": [{"offload": {"cpu": "1ms", "io": "20ms"}}, {"cpu": "1ms"}]}
            ],
        },
        where="test",
    )
    recorder = Recorder()
    config = SimConfig(model="loop", workers=3, concurrency=6, requests=30, workload=workload)
    result = simulate(config, recorder=recorder)
    recording = recorder.recording()
    starts = _starts(recording)
    hops = [e for e in recording.events if e.kind == K.SCHED_THREAD]
    assert len(hops) == 30
    for hop in hops:
        assert hop.thread == "AnyIO worker thread" and hop.tid >= 3
        assert hop.pid == starts[hop.req].pid
    assert len({hop.pid for hop in hops}) == 3
    made = {(hop.pid, hop.tid) for hop in hops}
    assert result.extra["pool_threads"] == len(made)


def test_processes_are_made_as_requests_need_them(recorded: Any) -> None:
    """Awaited I/O never keeps a loop from accepting: 2 clients on 8 workers are spread over
    2 processes (the one with the fewest in flight takes a request), and the others are never
    made."""
    result, recording = recorded(model="loop", workers=8, concurrency=2, requests=20, io="10ms")
    starts = _starts(recording)
    assert sorted({e.pid for e in starts.values()}) == [1000, 1001]
    assert result.header["server"] == {
        "model": "loop",
        "threads": 1,
        "workers": 8,
        "pool_size": 40,
    }


def test_processes_share_the_machine_cores(recorded: Any) -> None:
    """Four loops computing 20 ms each: on unlimited cores each step takes its 20 ms; on 2
    cores the four share them, each step taking 40 ms for its 20 ms of CPU."""
    for cpus, took in ((None, 20 * MS), (2, 40 * MS)):
        _, recording = recorded(
            model="loop", workers=4, concurrency=4, requests=4, cpu="20ms", cpus=cpus
        )
        steps = [e for e in recording.events if e.kind == K.SCHED_STEP and e.data["cpu_ns"]]
        assert len({e.pid for e in steps}) == 4
        assert [(e.t, e.dur, e.data["cpu_ns"]) for e in steps] == [(0, took, 20 * MS)] * 4


def test_cli_sweeps_workers_on_the_loop(capsys: pytest.CaptureFixture[str]) -> None:
    """``--sweep workers=1,2,4`` on the loop: a 50 ms blocking call runs on 1, 2, 4 loops at
    once (in simulated time: 20, 40, 80 requests a second)."""
    argv = ["sim", "--model", "loop", "--blocking-io", "50ms", "-c", "8", "-n", "32"]
    assert main([*argv, "--sweep", "workers=1,2,4", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(row["workers"], row["max_in_flight"], row["rps"]) for row in rows] == [
        (1, 1, 20.0),
        (2, 2, 40.0),
        (4, 4, 80.0),
    ]


def test_cli_records_one_lane_set_per_process(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    """``trace sim --model loop --workers 2`` records both processes' loops."""
    from tracer.recording import load

    out = tmp_path / "w.jsonl"
    argv = ["sim", "--model", "loop", "--workers", "2", "--blocking-io", "20ms", "-c", "4"]
    assert main([*argv, "-n", "8", "--json", "--record", str(out)]) == 0
    capsys.readouterr()
    recording = load(str(out))
    assert recording.header["server"]["workers"] == 2
    lanes = {(e.pid, e.tid, e.thread) for e in recording.events if e.kind == K.SCHED_STEP}
    assert lanes == {(1000, 2, "event-loop"), (1001, 2, "event-loop")}


@pytest.mark.parametrize(
    "argv,says",
    [
        (
            ["--workers", "200000"],
            "--workers 200,000 × --pool-size 40 is 8,000,000 pool threads, more than "
            "4,194,304 (no machine runs more); give fewer workers or a smaller pool.",
        ),
        (["--workers", "0"], "--workers must be a whole number of 1 or more, not 0."),
    ],
)
def test_cli_bad_workers_on_the_loop_is_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    """Bad --workers on the loop: one line on stderr, exit 2."""
    assert main(["sim", "--model", "loop", *argv, "-n", "5", "--no-record"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == [f"trace: error: {says}"]


def test_help_says_what_workers_means_on_the_loop(capsys: pytest.CaptureFixture[str]) -> None:
    """``trace sim --help`` names the loop among --workers' models."""
    with pytest.raises(SystemExit):
        main(["sim", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "loop: uvicorn's --workers, each its own loop, thread pool and GIL" in text


def test_cli_sweeps_the_cores_of_several_loops(capsys: pytest.CaptureFixture[str]) -> None:
    """Four computing loops on 1, 2, 4 cores differ; one loop uses one core at most, so its
    cores sweep is refused in one line, naming --workers."""
    argv = ["sim", "--model", "loop", "--cpu", "20ms", "-c", "8", "-n", "32"]
    assert main([*argv, "--workers", "4", "--sweep", "cpus=1,2,4", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(row["cpus"], row["rps"]) for row in rows] == [(1, 50.0), (2, 100.0), (4, 200.0)]
    assert main([*argv, "--sweep", "cpus=1,2,4"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "trace: error: --sweep cpus=1,2,4: --workers 1 is 1 process, whose GIL runs one thread "
        "at a time, so it never uses more than 1 core and every row would be the same; give "
        "--workers above 1 to see fewer cores slow it down."
    ]


def test_a_switch_interval_too_short_for_loops_sharing_cores_is_refused() -> None:
    """Four loops on one core, each with pool threads beside its loop thread: a turn of
    under 2 ns of CPU would never end the run, so it is refused as for processes."""
    from tracer.errors import UsageError

    config = SimConfig(model="loop", workers=4, cpus=1, switch_interval_ns=7)
    with pytest.raises(UsageError, match="too short for 4 processes on 1 core"):
        config.check()
    SimConfig(model="loop", workers=4, cpus=1, switch_interval_ns=8).check()


@pytest.mark.parametrize("cpus", [None, 2])
def test_loops_turns_settled_at_once_are_those_switched_one_by_one(
    monkeypatch: pytest.MonkeyPatch, cpus: int | None
) -> None:
    """Three loops whose pool threads compute beside their loop thread (each process's GIL
    switching every 5 ms), on unlimited cores or sharing 2: settling turns many intervals at
    a step records exactly what switching one interval at a time records."""
    import functools

    import sim.models.loop
    from sim.gil import Gil

    workload = workload_from_dict(
        {
            "name": "w",
            "route": [
                {
                    "name": "r",
                    "phases": [
                        {"offload": {"cpu": "exp:200ms", "io": "1ms"}},
                        {"cpu": "exp:100ms"},
                    ],
                }
            ],
        },
        where="test",
    )
    config = SimConfig(
        model="loop", workers=3, cpus=cpus, concurrency=12, requests=36, workload=workload
    )

    def run() -> tuple[list[Any], Any]:
        recorder = Recorder()
        result = simulate(config, recorder=recorder)
        events = [
            (e.kind, e.req, e.t, e.dur, e.pid, e.tid, e.task, e.data)
            for e in recorder.recording().events
        ]
        return events, result

    settled, fast = run()
    monkeypatch.setattr(sim.models.loop, "Gil", functools.partial(Gil, skip=False))
    plain, slow = run()
    assert settled == plain
    assert (fast.sim_ns, fast.gil_switches) == (slow.sim_ns, slow.gil_switches)
    assert slow.gil_switches > 100
    assert fast.engine_steps < slow.engine_steps

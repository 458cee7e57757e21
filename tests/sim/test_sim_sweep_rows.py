"""``--sweep``: no two rows of one value, and no cores sweep whose rows could not differ."""

from __future__ import annotations

import json

import pytest

from sim import SimConfig
from sim.dist import Fixed
from sim.sweep import parse_sweep, sweep
from sim.workload import inline_workload
from tracer.cli import main
from tracer.errors import UsageError

CPU_BOUND = inline_workload(cpu=Fixed(20_000_000))


@pytest.mark.parametrize(
    "text,says",
    [
        ("threads=4,4", '--sweep "threads=4,4": 4 is given twice; give each value once.'),
        ("threads=1,2,1", '--sweep "threads=1,2,1": 1 is given twice; give each value once.'),
        ("rate=4,4.0", '--sweep "rate=4,4.0": 4 is given twice; give each value once.'),
    ],
)
def test_a_value_given_twice_is_refused(text: str, says: str) -> None:
    """Same seed, same requests: a repeated value is the same row again, so it is refused."""
    with pytest.raises(UsageError) as info:
        parse_sweep(text)
    assert str(info.value) == says


def test_a_value_given_twice_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """trace sim --sweep threads=4,4: one line on stderr, exit 2, no table."""
    assert main(["sim", "--io", "1ms", "-n", "10", "--sweep", "threads=4,4"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == [
        'trace: error: --sweep "threads=4,4": 4 is given twice; give each value once.'
    ]


@pytest.mark.parametrize(
    "options,says",
    [
        (
            {"model": "threads"},
            "--sweep cpus=1,2,4,8: --model threads is one process, whose GIL runs one thread "
            "at a time, so it never uses more than 1 core and every row would be the same; "
            "sweep cpus with --model processes --workers N.",
        ),
        (
            {"model": "processes"},
            "--sweep cpus=1,2,4,8: --workers 1 is 1 process, whose GIL runs one thread at a "
            "time, so it never uses more than 1 core and every row would be the same; give "
            "--workers above 1 to see fewer cores slow it down.",
        ),
        (
            {"model": "processes", "workers": 8, "concurrency": 1},
            "--sweep cpus=1,2,4,8: -c 1 keeps at most 1 request in flight, on at most 1 of "
            "the 8 processes, so it never uses more than 1 core and every row would be the "
            "same; give -c above 1 to see fewer cores slow it down.",
        ),
    ],
)
def test_a_cores_sweep_that_cannot_change_a_row_says_why(
    options: dict[str, object], says: str
) -> None:
    """One process (or one client) computes on one core at a time: sweeping the cores from 1
    up would give the same row four times, so the sweep says why instead."""
    config = SimConfig(requests=20, workload=CPU_BOUND, **options)  # type: ignore[arg-type]
    with pytest.raises(UsageError) as info:
        sweep(config, "cpus", [1, 2, 4, 8])
    assert str(info.value) == says


def test_the_default_cores_sweep_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """trace sim --sweep cpus=1,2,4,8 with the default --workers 1: exit 2, one line."""
    argv = ["sim", "--model", "processes", "--cpu", "5ms", "-n", "10", "--sweep", "cpus=1,2,4,8"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "--workers 1 is 1 process" in lines[0]


def test_a_cores_sweep_below_the_processes_runs() -> None:
    """With more processes than the fewest cores swept, the rows differ and all are run."""
    config = SimConfig(
        model="processes", workers=4, threads=1, concurrency=4, requests=40, workload=CPU_BOUND
    )
    rows = sweep(config, "cpus", [2, 4, 8])
    assert [(row.value, row.summary["rps"]) for row in rows] == [
        (2, 100.0),
        (4, 200.0),
        (8, 200.0),
    ]


def test_distinct_values_still_sweep(capsys: pytest.CaptureFixture[str]) -> None:
    """threads=1,2: two rows, in the order given."""
    assert main(["sim", "--io", "1ms", "-n", "10", "--sweep", "threads=2,1", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["threads"] for row in rows] == [2, 1]

"""``trace sim`` answers capacity questions: the busiest resource, its utilisation, the rate it
keeps up with, and an open loop past it reported as saturated (its latencies grow with -n)."""

from __future__ import annotations

import json

import pytest

from tracer.cli import main

GUNICORN = ["sim", "--model", "processes", "--workers", "4", "--cpu", "20ms", "--io", "80ms"]


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> list[dict]:
    if "--json" not in argv:
        argv = [*argv, "--json"]
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_sweep_rows_give_the_busiest_resource_and_its_utilisation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """200 req/s of 100 ms (20 ms CPU) on 4 workers: 4 threads each fill 16 threads at
    160 req/s (rho = 200 x 0.1 / 16 = 1.25); 8 each leave the GIL the limit, 4 x 1 / 20 ms =
    200 req/s, rho = 1.0: both saturated; 8 workers x 8 threads keep up (GIL 50%)."""
    rows = _json(capsys, [*GUNICORN, "--rate", "200", "-n", "500", "--sweep", "threads=4,8"])
    assert [row["capacity"] for row in rows] == [
        {
            "resource": "threads",
            "units": 16,
            "capacity_rps": 160.0,
            "utilisation": 1.25,
            "saturated": True,
        },
        {
            "resource": "GIL",
            "units": 4,
            "capacity_rps": 200.0,
            "utilisation": 1.0,
            "saturated": True,
        },
    ]
    rows = _json(
        capsys,
        ["sim", "--model", "processes", "--workers", "8", "--threads", "8", "--cpu", "20ms",
         "--io", "80ms", "-n", "500", "--sweep", "rate=200"],
    )  # fmt: skip
    assert rows[0]["capacity"] == {
        "resource": "GIL",
        "units": 8,
        "capacity_rps": 400.0,
        "utilisation": 0.5,
        "saturated": False,
    }


def test_a_saturated_single_run_says_so_rather_than_a_steady_p99(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The headless report of a saturated open loop ends with the line saying its latencies
    grow with -n; --json keeps stdout JSON and says it on stderr."""
    argv = [*GUNICORN, "--threads", "4", "--rate", "200", "-n", "300", "--no-record"]
    assert main([*argv, "--headless"]) == 0
    line = (
        "busiest: threads (16), keeps up to 160.0 req/s; --rate 200 uses 125% of it: saturated: "
        "the queue grows as long as requests arrive, so the latencies grow with -n or -z and "
        "have no steady value."
    )
    assert capsys.readouterr().out.splitlines()[-1] == line
    assert main([*argv, "--json"]) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)
    assert captured.err.splitlines() == [f"trace sim: {line}"]


def test_a_stable_run_names_its_limit(capsys: pytest.CaptureFixture[str]) -> None:
    """M/M/4 at 30 req/s of 100 ms: 4 threads keep up to 40 req/s, rho = 0.75; a closed loop
    gets the capacity alone; --json of a stable run prints nothing on stderr."""
    argv = ["sim", "--io", "exp:100ms", "-n", "200", "--no-record"]
    assert main([*argv, "--rate", "30", "--headless"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "busiest: threads (4), keeps up to 40.0 req/s; --rate 30 uses 75% of it."
    )
    assert main([*argv, "--headless"]) == 0
    assert (
        capsys.readouterr().out.splitlines()[-1] == "busiest: threads (4), keeps up to 40.0 req/s."
    )
    assert main([*argv, "--rate", "30", "--json"]) == 0
    assert capsys.readouterr().err == ""


def test_gil_waits_saturate_threads_below_their_nominal_capacity(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """4 threads of exp 20 ms CPU + exp 80 ms I/O at 36 req/s: the work alone needs 90% of the
    threads, but waits for the one GIL hold them longer, and the run's queue grows: saturated
    (the rows at 30 req/s stay unsaturated)."""
    argv = ["sim", "--cpu", "exp:20ms", "--io", "exp:80ms", "-n", "20000", "--sweep", "rate=30,36"]
    rows = _json(capsys, argv)
    assert [(row["capacity"]["utilisation"], row["capacity"]["saturated"]) for row in rows] == [
        (0.75, False),
        (0.9, True),
    ]


def test_a_saturated_sweep_row_shows_grows_not_a_p99(capsys: pytest.CaptureFixture[str]) -> None:
    """The table's latency cells of a saturated row read "grows"; the stable row keeps them."""
    assert main(["sim", "--io", "100ms", "-n", "400", "--sweep", "rate=20,50"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("│")]
    assert "grows" not in rows[0] and "threads 50%" in rows[0]
    assert rows[1].count("grows") == 5 and "threads 125% saturated" in rows[1]
    assert "40.0 req/s" in rows[1]


def test_two_sweeps_make_a_grid(capsys: pytest.CaptureFixture[str]) -> None:
    """--sweep workers=2,4 --sweep threads=1,2: four rows, one per pair (the second --sweep
    is no longer dropped in favour of the first)."""
    argv = ["sim", "--model", "processes", "--io", "100ms", "-c", "8", "-n", "80"]
    rows = _json(capsys, [*argv, "--sweep", "workers=2,4", "--sweep", "threads=1,2", "--json"])
    assert [(row["workers"], row["threads"], row["rps"]) for row in rows] == [
        (2, 1, 20.0),
        (2, 2, 40.0),
        (4, 1, 40.0),
        (4, 2, 80.0),
    ]
    assert main([*argv, "--sweep", "workers=2,4", "--sweep", "threads=1,2"]) == 0
    out = capsys.readouterr().out
    assert "sweep of workers x threads" in out
    assert sum(1 for line in out.splitlines() if line.startswith("│")) == 4


@pytest.mark.parametrize(
    "sweeps,says",
    [
        (
            ["threads=1,2", "c=1,2", "workers=1"],
            "--sweep is given 3 times; give it once, or twice for a table of every pair of values.",
        ),
        (
            ["c=1,2", "concurrency=4"],
            "--sweep c and --sweep concurrency set the same setting; give its values in one "
            "--sweep.",
        ),
        (
            ["rate=10", "c=2"],
            "--sweep rate and --sweep c cannot go together: a rate is an open loop and -c a "
            "closed one; sweep one of them.",
        ),
    ],
)
def test_sweeps_that_cannot_make_a_grid_are_one_line(
    capsys: pytest.CaptureFixture[str], sweeps: list[str], says: str
) -> None:
    """Exit 2 and one line, rather than a table of only the last --sweep."""
    argv = ["sim", "--io", "1ms", "-n", "10"]
    for text in sweeps:
        argv += ["--sweep", text]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == [f"trace: error: {says}"]


def test_a_workers_by_cores_grid_names_no_single_process_count(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--sweep workers=1,4 --sweep cpus=1,2: the title does not claim the base "1 process"
    (each row has its own workers); 4 workers on 2 cores of 10 ms CPU keep up to 200 req/s."""
    argv = ["sim", "--model", "processes", "--cpu", "10ms", "-c", "8", "-n", "200"]
    assert main([*argv, "--sweep", "workers=1,4", "--sweep", "cpus=1,2"]) == 0
    out = capsys.readouterr().out
    assert (
        out.splitlines()[0].strip() == "sim:inline · processes: sweep of workers x cpus (simulated)"
    )
    rows = _json(capsys, [*argv, "--sweep", "workers=1,4", "--sweep", "cpus=1,2"])
    assert [(r["workers"], r["cpus"], r["capacity"]["resource"], r["rps"]) for r in rows] == [
        (1, 1, "GIL", 100.0),
        (1, 2, "GIL", 100.0),
        (4, 1, "cores", 100.0),
        (4, 2, "cores", 200.0),
    ]

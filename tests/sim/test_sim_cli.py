"""``trace sim``: options to a simulation, recordings on disk, JSON, sweeps, one-line errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tracer import events as K
from tracer.cli import main
from tracer.recording import load
from tracer.summary import summarize

ROOT = Path(__file__).resolve().parents[2]


def test_json_summary_only_on_stdout(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--json prints the summary JSON alone on stdout; the recording path goes to stderr."""
    out = tmp_path / "run.jsonl"
    code = main(
        [
            "sim",
            "--model",
            "loop",
            "-c",
            "5",
            "-n",
            "50",
            "--io",
            "20ms",
            "--json",
            "--record",
            str(out),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    summary = json.loads(captured.out)
    assert summary["completed"] == 50 and summary["max_in_flight"] == 5
    assert str(out) in captured.err
    recording = load(out)
    assert (
        recording.header["source"] == "simulated" and recording.header["server"]["model"] == "loop"
    )
    assert len(recording.requests()) == 50


def test_default_recording_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --record or --no-record the recording goes to ./traces/sim-<model>-<time>.jsonl."""
    monkeypatch.chdir(tmp_path)
    assert main(["sim", "-n", "10", "--headless"]) == 0
    (path,) = (tmp_path / "traces").glob("sim-threads-*.jsonl")
    assert str(Path("traces") / path.name) in capsys.readouterr().out


def test_headless_table_without_recording(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--no-record --headless prints a summary table and writes nothing."""
    monkeypatch.chdir(tmp_path)
    assert (
        main(["sim", "--no-record", "--headless", "-n", "100", "--cpu", "exp:2ms", "--io", "10ms"])
        == 0
    )
    out = capsys.readouterr().out
    assert "throughput" in out or "rps" in out
    assert not (tmp_path / "traces").exists()


def test_workload_file(capsys: pytest.CaptureFixture[str]) -> None:
    """--workload FILE runs its routes."""
    workload = ROOT / "sim" / "workloads" / "blocking.toml"
    assert (
        main(
            [
                "sim",
                "--model",
                "loop",
                "--workload",
                str(workload),
                "-n",
                "200",
                "--no-record",
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["loop_blocked_ms"] > 0


def test_sweep_json(capsys: pytest.CaptureFixture[str]) -> None:
    """--sweep threads=1,2,4 --json: one row per value; more threads, more throughput for I/O."""
    assert main(["sim", "--sweep", "threads=1,2,4", "-c", "8", "-n", "200", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["threads"] for row in rows] == [1, 2, 4]
    assert [row["rps"] for row in rows] == [10.0, 20.0, 40.0]


def test_sweep_table(capsys: pytest.CaptureFixture[str]) -> None:
    """--sweep prints a table with a row per value and the percentiles."""
    assert main(["sim", "--sweep", "rate=10,20", "-n", "300", "--threads", "4"]) == 0
    out = capsys.readouterr().out
    assert "p99" in out and "sweep of rate" in out


@pytest.mark.parametrize("typed", ["pool-size", "pool_size"])
def test_a_sweep_table_names_the_setting_as_typed(
    capsys: pytest.CaptureFixture[str], typed: str
) -> None:
    """The title and the column say what was typed (they said pool_size for pool-size); the
    JSON rows keep the setting's one key, whichever spelling was typed, as the other keys are
    snake_case (max_in_flight, offered_rps)."""
    argv = ["sim", "--model", "loop", "-n", "20", "--no-record", "--sweep", f"{typed}=1,2"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"sweep of {typed} (simulated)" in lines[0]
    assert lines[2].split("┃")[1].strip() == typed
    assert main([*argv, "--json"]) == 0
    assert [row["pool_size"] for row in json.loads(capsys.readouterr().out)] == [1, 2]


@pytest.mark.parametrize(
    "argv,says",
    [
        (["--model", "fibers"], "invalid choice: 'fibers'"),
        (["--io=-5ms"], "negative"),
        (["--io", "-5ms"], "negative"),
        (["--cpu", "-1.5ms"], "negative"),
        (["-z", "-1s"], "-z"),
        (["--cpu", "fast"], '--cpu "fast" is not a duration'),
        (["--io", "100"], "has no unit"),
        (["--threads", "0"], "--threads must be"),
        (["--threads", "many"], "invalid int value"),
        (["-z", "soon"], '-z "soon" is not a duration'),
        (["--workload", "/nonexistent.toml"], "does not exist"),
        (["--workload", "{bad}", "--cpu", "1ms"], "not both"),
        (["--sweep", "colour=1,2"], 'cannot sweep "colour"'),
        (["--sweep", "threads=1,x"], '"x" is not a whole number'),
        (["-c", "2", "--rate", "5"], "not allowed with argument"),
        (["--rate", "5", "--think", "10ms"], "--think is for closed-loop clients"),
        (["--model", "threads", "--workers", "2"], "--workers does not apply to --model threads"),
        (["--model", "loop", "--threads", "8"], "--threads does not apply to --model loop"),
        (["--model", "wsgi-on-loop", "--threads", "2"], "--threads does not apply"),
        (["--model", "processes", "--pool-size", "8"], "--pool-size does not apply"),
        (["--model", "threads", "--block-threshold-ms", "5"], "does not apply to --model threads"),
        (["--sweep", "pool-size=1,40"], "--sweep pool-size does not apply to --model threads"),
        (["--model", "loop", "--sweep", "threads=1,2"], "--sweep threads does not apply"),
        (
            ["--model", "wsgi-on-loop", "--sweep", "processes=1,2"],
            "--sweep processes does not apply",
        ),
        (["--model", "loop", "--block-threshold", "nan"], "'nan' is not a finite number"),
        (["--model", "loop", "--block-threshold-ms=-1"], "out of range"),
        (["--model", "processes", "--cpus", "0"], "argument --cpus: 0 is out of range"),
        (["--cpus", "-1"], "argument --cpus: -1 is out of range"),
        (["--cpus=-1"], "argument --cpus: -1 is out of range"),
        (["--cpus", "abc"], "argument --cpus: 'abc' is not a whole number"),
        (["--cpus", "1.5"], "argument --cpus: '1.5' is not a whole number"),
        (["--cpus", "8193"], "argument --cpus: 8193 is out of range: give 1 to 8192"),
        (["--cpus", "1" + "0" * 30], "argument --cpus: 1000000000000000000000000000000 is out"),
        # A sweep's value is named as the sweep gave it, not as an option never typed.
        (
            ["--sweep", "cpus=2,9000"],
            "--sweep cpus=9000: cpus must be a whole number from 1 to 8192, not 9000.",
        ),
        (
            ["--sweep", "rate=inf"],
            "--sweep rate=inf: rate must be a number of requests per second above 0, not inf.",
        ),
        (["--threads", "100000000"], "--threads must be a whole number from 1 to 4,194,304"),
        (["--threads", "4194305"], "not 4,194,305 (Linux's PID_MAX_LIMIT"),
        (["--model", "processes", "--workers", "5000000"], "--workers must be a whole number"),
        (
            ["--model", "processes", "--workers", "1000000", "--threads", "5"],
            "--workers 1,000,000 × --threads 5 is 5,000,000 threads, more than 4,194,304",
        ),
        (["--model", "loop", "--pool-size", "100000000"], "--pool-size must be a whole number"),
        (["-c", "100000000"], "--concurrency must be a whole number from 1 to 1,048,576"),
        (["--sweep", "threads=1,100000000"], "--sweep threads=100000000: threads must be a whole"),
        (
            ["--model", "processes", "--sweep", "processes=1,5000000"],
            "--sweep processes=5000000: processes must be a whole number from 1 to 4,194,304",
        ),
        (
            ["--model", "processes", "--threads", "5", "--sweep", "workers=1000000"],
            "--sweep workers=1000000: workers 1,000,000 × --threads 5 is 5,000,000 threads",
        ),
        (
            ["--sweep", "pool-size=1,100000000", "--model", "loop"],
            "--sweep pool-size=100000000: pool-size must be a whole number",
        ),
        (["--sweep", "c=1,100000000"], "--sweep c=100000000: c must be a whole number from 1"),
        (["--rate", "1e-300"], "--rate 1e-300 is too low"),
        (["--sweep", "rate=10,1e-300"], "--sweep rate=1e-300: rate 1e-300 is too low"),
        (["--model", "loop", "--block-threshold-ms", "1e308"], "--block-threshold-ms 1e+308 is"),
        (["--io", "1e300s"], '--io "1e300s" is too long'),
        (["--cpu", "exp:1e299s"], '--cpu "exp:1e299s": mean "1e299s" is too long'),
        (["-z", "1e300s"], '-z "1e300s" is too long'),
        (["--think", "1e300s"], '--think "1e300s" is too long'),
        # A sweep sets its own setting in every row: one given with it would be ignored.
        (["--sweep", "rate=1,2", "-c", "10"], "--sweep rate is not allowed with -c/--concur"),
        (["--sweep", "concurrency=1,2", "--rate", "5"], "--sweep concurrency is not allowed"),
        (["--sweep", "c=1,2", "-c", "3"], "--sweep c sets -c in every row"),
        (["--sweep", "threads=1,2", "--threads", "8"], "--sweep threads sets --threads in every"),
        (["--sweep", "rate=1,2", "--rate", "5"], "--sweep rate sets --rate in every row"),
        (["--sweep", "cpus=1,2", "--cpus", "4"], "--sweep cpus sets --cpus in every row"),
        (["--sweep", "rate=1,2", "--think", "5ms"], "--think is for closed-loop clients"),
        # Each duration fits 64 bits, their sum does not: stopped when the clock would pass.
        (["--io", "9000000000s", "-n", "2", "-c", "1"], "would pass about 292 years"),
        (["--sweep", "rate=1e-8", "--io", "1ms"], "--sweep rate=1e-08: The simulated time would"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    """Bad input: exit 2, one line on stderr naming the problem, no traceback."""
    with_record = [*argv, "--no-record"]
    try:
        code = main(["sim", *with_record])
    except SystemExit as exc:  # argparse's own errors
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 2
    assert says in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_invalid_workload_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A workload with an unknown phase: one line naming the file, the route and the phase."""
    bad = tmp_path / "bad.toml"
    bad.write_text("[[route]]\nname = 'x'\nphases = [{ nap = '1ms' }]\n", encoding="utf-8")
    assert main(["sim", "--workload", str(bad), "--no-record"]) == 2
    err = capsys.readouterr().err.strip()
    assert str(bad) in err and "unknown phase 'nap'" in err and '("x")' in err


@pytest.mark.parametrize("spelling", ["--block-threshold-ms", "--block-threshold"])
def test_block_threshold_has_trace_runs_spelling_too(
    capsys: pytest.CaptureFixture[str], spelling: str
) -> None:
    """--block-threshold (trace run's name) and --block-threshold-ms set the same threshold."""
    argv = ["sim", "--model", "loop", "--blocking-io", "5ms", "-c", "1", "-n", "3", "--json"]
    assert main([*argv, "--no-record", spelling, "4"]) == 0
    assert json.loads(capsys.readouterr().out)["loop_blocked_ms"] == 15.0
    assert main([*argv, "--no-record", spelling, "6"]) == 0
    assert json.loads(capsys.readouterr().out)["loop_blocked_ms"] == 0.0


def test_options_that_apply_are_still_taken(capsys: pytest.CaptureFixture[str]) -> None:
    """processes takes --workers and --threads; loop takes --pool-size."""
    base = ["sim", "-n", "20", "--json", "--no-record"]
    assert main([*base, "--model", "processes", "--workers", "2", "--threads", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["completed"] == 20
    assert main([*base, "--model", "loop", "--pool-size", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["completed"] == 20
    # Not both: the sweep sets the pool in every row, so --pool-size 2 would be ignored.
    assert main([*base, "--model", "loop", "--sweep", "pool-size=1,2"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


CPU_BOUND_PROCESSES = [
    "sim",
    "--model",
    "processes",
    "--workers",
    "8",
    "--threads",
    "1",
    "--cpu",
    "fixed:20ms",
    "-c",
    "8",
    "-n",
    "80",
]
"""The user's report: 8 single-thread processes, 20 ms of pure-Python CPU per request."""


def test_cpus_shares_the_cores_and_is_recorded(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--cpus 2: 8 processes share 2 cores: 100 requests/s, each 80 ms long with 20 ms of CPU;
    the header's server says cpus 2 and the report says how many cores there were."""
    out = tmp_path / "two.jsonl"
    assert main([*CPU_BOUND_PROCESSES, "--cpus", "2", "--headless", "--record", str(out)]) == 0
    assert re.search(r"simulated cores\s+2 \(--cpus\)", capsys.readouterr().out)
    recording = load(out)
    assert recording.header["server"] == {
        "model": "processes",
        "threads": 1,
        "workers": 8,
        "cpus": 2,
    }
    assert summarize(recording)["rps"] == 100.0
    spans = [e for e in recording.events if e.kind == K.SCHED_THREAD]
    assert {(e.data["cpu_ns"], e.dur) for e in spans} == {(20_000_000, 80_000_000)}


def test_without_cpus_cores_are_unlimited_and_said_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """No --cpus: as before, every process has a core (400 requests/s); no cpus in the header,
    and the report says the cores were unlimited."""
    out = tmp_path / "free.jsonl"
    assert main([*CPU_BOUND_PROCESSES, "--headless", "--record", str(out)]) == 0
    assert re.search(r"simulated cores\s+unlimited", capsys.readouterr().out)
    recording = load(out)
    assert "cpus" not in recording.header["server"]
    assert summarize(recording)["rps"] == 400.0
    assert main([*CPU_BOUND_PROCESSES, "--headless", "--no-record"]) == 0
    assert "unlimited" in capsys.readouterr().out


def test_sweep_cpus(capsys: pytest.CaptureFixture[str]) -> None:
    """--sweep cpus=1,2,4,8,16: throughput grows with the cores up to one per process."""
    assert main([*CPU_BOUND_PROCESSES, "--sweep", "cpus=1,2,4,8,16", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(row["cpus"], row["rps"]) for row in rows] == [
        (1, 50.0),
        (2, 100.0),
        (4, 200.0),
        (8, 400.0),
        (16, 400.0),
    ]


@pytest.mark.parametrize("model", ["threads", "loop", "wsgi-on-loop"])
def test_cpus_applies_to_every_model(capsys: pytest.CaptureFixture[str], model: str) -> None:
    """--cpus describes the machine, so every model takes it; one process is not slowed by
    one core (its GIL runs one thread at a time anyway)."""
    argv = ["sim", "--model", model, "--cpu", "exp:5ms", "--io", "10ms", "-n", "200", "--json"]
    assert main([*argv, "--no-record"]) == 0
    free = json.loads(capsys.readouterr().out)
    assert main([*argv, "--no-record", "--cpus", "1"]) == 0
    assert json.loads(capsys.readouterr().out) == free


def test_the_command_line_and_the_config_agree_on_the_most_cores() -> None:
    """The parser's bound is written out (importing sim at start-up costs ~50 ms): the same."""
    from sim.cores import MAX_CPUS

    assert main(["sim", "--cpus", str(MAX_CPUS), "-n", "1", "--no-record"]) == 0
    with pytest.raises(SystemExit) as exit_info:
        main(["sim", "--cpus", str(MAX_CPUS + 1), "-n", "1", "--no-record"])
    assert exit_info.value.code == 2


def test_an_open_loop_sweep_shows_the_offered_rate_and_the_drain(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """I/O-only requests on the loop are an infinite-server queue: its throughput is the
    arrival rate, while req/s (completed over the whole run) also spreads the drain after the
    last arrival and stays far below it. The offered rate and the drain are shown beside it;
    a closed loop has neither."""
    argv = ["sim", "--model", "loop", "--io", "exp:1s", "--no-record", "--json"]
    assert main([*argv, "--sweep", "rate=100,800"]) == 0
    rows = json.loads(capsys.readouterr().out)
    offered = [row["offered_rps"] for row in rows]  # 1,000 Poisson arrivals: within ~10%
    assert 90 < offered[0] < 115 and 720 < offered[1] < 920, offered
    assert all(row["rps"] < row["offered_rps"] * 0.8 and row["drain_s"] > 2 for row in rows)
    assert (
        main(["sim", "--model", "loop", "--io", "exp:1s", "--no-record", "--sweep", "rate=800"])
        == 0
    )
    table = capsys.readouterr().out
    assert "offered" in table and "drain" in table and "the drain after the last arrival" in table
    assert (
        main(["sim", "--io", "10ms", "-n", "50", "--no-record", "--json", "--sweep", "threads=2"])
        == 0
    )
    assert "offered_rps" not in capsys.readouterr().out


def test_a_typo_sized_pool_is_refused_by_the_real_command(tmp_path: Path) -> None:
    """``trace sim --threads 100000000 -n 10 --headless`` ran for minutes: now, through a real
    process, exit 2 and one stderr line before anything runs (no recording is claimed)."""
    proc = subprocess.run(
        [sys.executable, "-m", "tracer", "sim", "--threads", "100000000", "-n", "10", "--headless"],
        capture_output=True,
        text=True,
        timeout=60,  # a safety net: the refusal comes before any simulation
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == "" and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("trace: error: --threads must be a whole number from 1 to")
    assert not (tmp_path / "traces").exists()


def test_a_million_processes_record_only_the_busy_ones(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``--model processes --workers 1000000 -n 10`` took 7 s and 1.9 GB making every process:
    now only the ten that served a request exist, in the recording and in the report."""
    out = tmp_path / "million.jsonl"
    argv = ["sim", "--model", "processes", "--workers", "1000000", "-n", "10"]
    assert main([*argv, "--headless", "--record", str(out)]) == 0
    report = capsys.readouterr().out
    recording = load(out)
    assert recording.header["server"] == {"model": "processes", "threads": 1, "workers": 1000000}
    assert len(recording.requests()) == 10
    assert {e.pid for e in recording.events} == set(range(1000, 1010))
    assert {(e.pid, e.tid) for e in recording.events if e.kind == K.SCHED_THREAD} == {
        (pid, 1) for pid in range(1000, 1010)
    }  # gunicorn's sync worker serves on its main thread
    assert "1009/MainThread" in report and "1010/" not in report


def test_a_huge_thread_pool_records_only_the_busy_threads(tmp_path: Path) -> None:
    """--threads 4194304 (the most) with 50 clients: 50 worker threads, waitress-0..waitress-49."""
    out = tmp_path / "huge.jsonl"
    argv = ["sim", "--threads", "4194304", "-c", "50", "-n", "200", "--io", "10ms"]
    assert main([*argv, "--headless", "--record", str(out)]) == 0
    recording = load(out)
    threads = {(e.tid, e.thread) for e in recording.events}
    assert threads == {(1, "MainThread")} | {(2 + i, f"waitress-{i}") for i in range(50)}


def test_a_million_clients_for_ten_requests(capsys: pytest.CaptureFixture[str]) -> None:
    """-c 1000000 -n 10: the ten requests the first ten clients send, as with -c 10."""
    base = ["sim", "-n", "10", "--threads", "10", "--json", "--no-record"]
    assert main([*base, "-c", "1000000"]) == 0
    many = json.loads(capsys.readouterr().out)
    assert main([*base, "-c", "10"]) == 0
    assert many == json.loads(capsys.readouterr().out)
    assert many["completed"] == 10 and many["max_in_flight"] == 10


def test_the_help_states_the_bounds_the_config_checks(capsys: pytest.CaptureFixture[str]) -> None:
    """The help writes the bounds out (importing sim at start-up is slow): the same numbers."""
    from sim.arrivals import MAX_CLIENTS
    from sim.workers import MAX_THREADS

    with pytest.raises(SystemExit):
        main(["sim", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"at most {MAX_THREADS}, Linux's most" in text
    assert f"workers x threads at most {MAX_THREADS}" in text
    assert f"at most {MAX_CLIENTS})" in text


def test_a_run_past_292_years_stops_and_says_where_its_recording_ends(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Two 9e9 s waits one after the other end past 2^63 ns: the run stops when the second is
    scheduled, one line names the recording (which keeps the events before that point, all
    within 64 bits and readable), exit 2, no summary on stdout."""
    from sim.dist import MAX_DURATION_NS

    record = tmp_path / "big.jsonl"
    argv = ["sim", "--io", "9000000000s", "-n", "2", "-c", "1", "--json", "--record", str(record)]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "would pass about 292 years" in err and "about 570 years" in err
    assert f'The recording "{record}" ends at that point' in err
    events = load(record).events
    assert events and max(e.t + (e.dur or 0) for e in events) <= MAX_DURATION_NS
    assert sum(1 for e in events if e.kind == K.REQUEST_END) == 1


def test_a_run_that_ends_within_292_years_is_kept(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """One 9e9 s wait (285 years) ends within 2^63 ns: recorded as before, exit 0."""
    record = tmp_path / "long.jsonl"
    argv = ["sim", "--io", "9000000000s", "-n", "1", "-c", "1", "--json", "--record", str(record)]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["completed"] == 1
    assert max(e.t for e in load(record).events) == 9_000_000_000 * 10**9


def test_a_sweep_records_nothing_so_record_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--sweep with --record wrote nothing and said nothing: now one line, exit 2, no file."""
    record = tmp_path / "sw.jsonl"
    argv = ["sim", "--io", "100ms", "-c", "50", "-n", "100", "--sweep", "threads=1,2", "--json"]
    assert main([*argv, "--record", str(record)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert "--record does not apply to --sweep: a sweep is many runs" in err
    assert not record.exists()
    assert main([*argv, "--no-record"]) == 0  # --no-record says what a sweep does anyway


def test_a_sweep_takes_the_defaults_it_does_not_vary(capsys: pytest.CaptureFixture[str]) -> None:
    """Only options given are refused with a sweep: -c's default does not stop a rate sweep,
    and -c given does not stop a threads sweep."""
    assert main(["sim", "--sweep", "rate=10,20", "-n", "50", "--json"]) == 0
    assert [row["rate"] for row in json.loads(capsys.readouterr().out)] == [10.0, 20.0]
    assert main(["sim", "--sweep", "threads=1,2", "-c", "4", "-n", "20", "--json"]) == 0
    assert [row["threads"] for row in json.loads(capsys.readouterr().out)] == [1, 2]


def test_the_help_lists_every_sweep_name_and_the_flags_cover_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--sweep's help is written from sim.sweep's table (threads, workers, rate, concurrency,
    pool-size, cpus), and every field it varies has its option for the refusals."""
    from sim.sweep import NAMES, SWEEPABLE
    from tracer.cli.sim import SWEPT_FLAGS

    with pytest.raises(SystemExit):
        main(["sim", "--help"])
    text = " ".join(capsys.readouterr().out.split()).replace("- ", "-")
    assert NAMES == ("threads", "workers", "rate", "concurrency", "pool-size", "cpus")
    assert f"one of: {', '.join(NAMES)};" in text
    assert set(SWEPT_FLAGS) == {field for field, _ in SWEEPABLE.values()}


def test_the_sweep_help_does_not_import_the_simulator_at_start_up() -> None:
    """The names are read from sim.sweep only when the help is shown: building the parser
    (every trace command) imports no sim module."""
    code = (
        "import sys; from tracer.cli import build_parser; build_parser(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sim'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_sweep_table_into_a_pipe_is_as_wide_as_it_needs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Not a terminal: rich took 80 columns, and an open-loop sweep's ten columns lost their
    headings and figures to "…" ("queu…", "3.26…")."""
    args = ["sim", "--io", "100ms", "-n", "100", "--sweep", "rate=10,20,40"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "…" not in out
    assert "queued (mean)" in out and "offered" in out and "3.26 ms" in out

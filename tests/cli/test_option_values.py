"""Number options are checked when parsed: not a number, not finite or out of range is one
line on stderr and exit code 2, before anything runs (no serve banner, no traceback)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tracer.cli import main
from tracer.cli.parsing import bounded
from tracer.tui.examples import loop_example

pytestmark = pytest.mark.timeout(60)


def _write(path: Path) -> str:
    recording = loop_example()
    lines = [json.dumps(recording.header)] + [json.dumps(e.to_dict()) for e in recording.events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    return err


@pytest.mark.parametrize(
    "port,message",
    [
        ("99999", "out of range: give 1 to 65535"),
        ("65536", "out of range"),
        ("0", "out of range"),
        ("-1", "out of range"),
        ("80.5", "not a whole number"),
        ("http", "not a whole number"),
    ],
)
def test_demo_port_out_of_range(
    capsys: pytest.CaptureFixture[str], port: str, message: str
) -> None:
    """``trace demo blocking-call --sim --serve --port 99999``: no banner, no OverflowError."""
    err = _usage_error(["demo", "blocking-call", "--sim", "--serve", "--port", port], capsys)
    assert err.startswith("trace demo: error: argument --port: ") and message in err
    assert "serving" not in err


def test_demo_port_bounds_are_accepted() -> None:
    """1 and 65535 are ports; the parser keeps them as ints."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=bounded(int, low=1, high=65535))
    assert parser.parse_args(["--port", "1"]).port == 1
    assert parser.parse_args(["--port", "65535"]).port == 65535


@pytest.mark.parametrize(
    "value,message",
    [
        ("nan", "'nan' is not a finite number"),
        ("inf", "'inf' is not a finite number"),
        ("-inf", "not a finite number"),
        ("1e400", "not a finite number"),
        ("-1", "-1 is out of range: give a number above 0"),
        ("-0.5", "out of range"),
        ("0", "0 is out of range: give a number above 0"),
        ("ten", "'ten' is not a number"),
    ],
)
def test_replay_block_threshold_must_be_finite_and_not_negative(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, message: str
) -> None:
    """``trace replay F --block-threshold-ms nan|inf|-1``: one line, exit 2."""
    path = _write(tmp_path / "run.jsonl")
    shot = tmp_path / "x.svg"
    err = _usage_error(
        ["replay", path, f"--block-threshold-ms={value}", "--screenshot", str(shot)], capsys
    )
    assert err.startswith("trace replay: error: argument --block-threshold-ms/--block-threshold: ")
    assert message in err
    assert not shot.exists()


def test_replay_block_threshold_takes_the_older_spelling_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--block-threshold``, the older spelling run and sim declare, is replay's too (argparse
    took it before as an abbreviation; now its help and errors name it as run's and sim's)."""
    path = _write(tmp_path / "run.jsonl")
    out = tmp_path / "small.svg"
    assert main(["replay", path, "--block-threshold", "0.001", "--screenshot", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<svg")


def test_the_real_command_line_gives_one_line(tmp_path: Path) -> None:
    """Through a real process: exit 2, one stderr line, nothing on stdout."""
    path = _write(tmp_path / "run.jsonl")
    for argv in (
        ["replay", path, "--block-threshold-ms", "inf"],
        ["demo", "blocking-call", "--sim", "--serve", "--port", "99999"],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "tracer", *argv], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 2, proc.stderr
        assert proc.stdout == "" and proc.stderr.count("\n") == 1, proc.stderr


@pytest.mark.parametrize(
    "kind,low,high,text,value",
    [(int, 1, 10, "10", 10), (float, 0.0, None, "0", 0.0), (float, None, 5.0, "-3.5", -3.5)],
)
def test_bounded_accepts_values_in_range(
    kind: type, low: float | None, high: float | None, text: str, value: float
) -> None:
    assert bounded(kind, low=low, high=high)(text) == value


@pytest.mark.parametrize(
    "kind,low,high,text,message",
    [
        (int, 1, 10, "11", "11 is out of range: give 1 to 10"),
        (float, 0.0, None, "-1", "-1 is out of range: give 0 or more"),
        (float, None, 5.0, "6", "6 is out of range: give at most 5"),
        (float, None, None, "nan", "'nan' is not a finite number"),
        (int, None, None, "1.0", "'1.0' is not a whole number"),
    ],
)
def test_bounded_rejects_with_a_message(
    kind: type, low: float | None, high: float | None, text: str, message: str
) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="^" + message.replace(".", r"\.")):
        bounded(kind, low=low, high=high)(text)


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
@pytest.mark.parametrize("spelling", ["--block-threshold-ms", "--block-threshold"])
def test_run_block_threshold_must_be_finite_and_not_negative(
    capsys: pytest.CaptureFixture[str], spelling: str, value: str
) -> None:
    """``trace run --block-threshold-ms nan`` was a ValueError traceback; both spellings of
    the option (sim and replay say -ms) are one line and exit 2."""
    err = _usage_error(["run", "sample_apps.hello:asgi_app", f"{spelling}={value}"], capsys)
    assert err.startswith("trace run: error: argument --block-threshold-ms/--block-threshold: ")


@pytest.mark.parametrize("value", ["0", "-1"])
def test_limit_concurrency_must_be_at_least_one(
    capsys: pytest.CaptureFixture[str], value: str
) -> None:
    """``--limit-concurrency 0`` was ignored and -1 answered 503 to everything: one line."""
    err = _usage_error(
        [
            "run",
            "sample_apps.hello:asgi_app",
            "--server",
            "uvicorn",
            f"--limit-concurrency={value}",
        ],
        capsys,
    )
    assert err.startswith("trace run: error: argument --limit-concurrency: ")


@pytest.mark.parametrize(
    "argv,words",
    [
        (["sample_apps.hello:application", "--server", "threads", "--workers", "3"],
         "--workers does not apply to --server threads (it is one process); leave it out."),
        (["sample_apps.hello:asgi_app", "--threads", "3"],
         "--threads does not apply to --server loop (it runs every request on one thread); "
         "leave it out."),
        (["sample_apps.hello:application", "--path", "ws:/"],
         "WebSocket sessions (ws: paths, --ws-messages) need an ASGI app; --server threads "
         "runs WSGI. Use --server loop, or a real WSGI server to see the upgrade ignored."),
        (["sample_apps.hello:application", "--limit-concurrency", "5"],
         "--limit-concurrency is a real server's flag; --server threads runs in process: "
         "leave it out, or choose a real server (--server uvicorn, gunicorn, ...)."),
    ],
)  # fmt: skip
def test_an_in_process_model_refuses_options_it_would_ignore(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], words: str
) -> None:
    """``--workers`` on threads and ``--threads`` on loop were accepted and ignored."""
    from tracer.cli import main as cli_main

    record = tmp_path / "r.jsonl"
    assert cli_main(["run", *argv, "-n", "2", "--record", str(record)]) == 2
    assert capsys.readouterr().err.strip() == f"trace: error: {words}"
    assert not record.exists()  # nothing ran: no recording left behind


def test_http2_with_websocket_sessions_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """The sessions went out as HTTP/1.1 upgrades while the header said HTTP/2."""
    from tracer.cli import main as cli_main

    argv = ["run", "sample_apps.websocket:app", "--server", "hypercorn", "--http2"]
    assert cli_main([*argv, "--path", "ws:/ws", "-n", "1"]) == 2
    assert capsys.readouterr().err.startswith("trace: error: --http2 does not apply to WebSocket")


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_rate_must_be_finite(capsys: pytest.CaptureFixture[str], value: str) -> None:
    """``--rate nan`` sent a burst of 83,834 requests and recorded ``"rate": null``."""
    err = _usage_error(["run", "sample_apps.hello:asgi_app", f"--rate={value}", "-z", "1s"], capsys)
    assert err.startswith("trace run: error: argument --rate: ")


@pytest.mark.parametrize(
    "argv,message",
    [
        (["-z", "-1s"], '-z "-1s" is negative: give a duration above 0'),
        (["--duration", "-500ms"], '-z "-500ms" is negative'),
        (["-z=-1s"], '-z "-1s" is negative'),
        (["-z", "-5"], '-z "-5" is negative'),
        (["-z", "0s"], '-z "0s" is zero: give a duration above 0'),
        (["-z", "ten"], '-z "ten" is not a duration: give a duration above 0'),
        (["-z", "nan"], '-z "nan" is not a duration'),
        (["--timeout", "-1s"], '--timeout "-1s" is negative'),
        (["--timeout", "-.5"], '--timeout "-.5" is negative'),
        (["--timeout", "0"], '--timeout "0" is zero'),
        (["--timeout", "soon"], '--timeout "soon" is not a duration'),
    ],
)
def test_run_durations_name_the_option_and_what_it_takes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    """``trace run -z -1s`` said "argument -z/--duration: expected one argument" (argparse
    took -1s for an option) and ``-z=-1s`` "Cannot read the duration", naming no option:
    one line now, naming the option, what is wrong and what it takes, exit 2."""
    record = tmp_path / "r.jsonl"
    assert main(["run", "sample_apps.hello:asgi_app", *argv, "--record", str(record)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith(f"trace: error: {message}")
    assert err.endswith("such as 10s, 500ms, 100us, 2m or 1h (a plain number is seconds).\n")
    assert not record.exists()


def test_run_durations_are_read_as_seconds(tmp_path: Path) -> None:
    """What is accepted goes on as seconds: ``-z 250ms --timeout 2m`` in the header."""
    from tracer.cli import build_parser
    from tracer.cli.run import config_from_args

    args = build_parser().parse_args(["run", "-z", "250ms", "--timeout", "2m"])
    config = config_from_args(args)
    assert (config.duration, config.timeout, config.requests) == (0.25, 120.0, None)
    default = config_from_args(build_parser().parse_args(["run"]))
    assert (default.duration, default.timeout, default.requests) == (None, 20.0, 200)


@pytest.mark.parametrize(
    "argv,line",
    [
        (["--io", "-5ms"], '--io "-5ms" is negative; durations must be 0 or more.'),
        (["--threads", "-2"], "--threads must be a whole number of 1 or more, not -2."),
        (["-c", "-3"], "--concurrency must be a whole number of 1 or more, not -3."),
        (["--duration", "-1s"],
         '-z "-1s" is negative: give a duration above 0, such as 10s, 500ms, 100us, 2m or 1h '
         "(a plain number is seconds)."),
    ],
)  # fmt: skip
def test_sim_negative_values_are_values(
    capsys: pytest.CaptureFixture[str], argv: list[str], line: str
) -> None:
    """``trace sim`` takes a dash and a digit after an option for its value, as every
    sub-command's parser does (``OneLineParser``): the option's own check names what is wrong,
    in one line, exit 2, instead of argparse's "expected one argument"."""
    code = main(["sim", *argv, "--headless", "--no-record"])
    assert (code, capsys.readouterr().err) == (2, f"trace: error: {line}\n")


@pytest.mark.parametrize(
    "argv,words",
    [
        (["--rate", "-1"], "argument --rate: -1 is out of range: give a number above 0"),
        (["--rate=-1"], "argument --rate: -1 is out of range: give a number above 0"),
        (["--rate", "-.5"], "argument --rate: -.5 is out of range: give a number above 0"),
    ],
)  # fmt: skip
def test_sim_negative_rates_are_values(
    capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    """A dash and a digit are the value of ``--rate`` too; its check is trace run's
    (``test_option_rules.py``)."""
    err = _usage_error(["sim", *argv, "--headless", "--no-record"], capsys)
    assert err.startswith(f"trace sim: error: {words}")

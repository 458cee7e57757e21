"""One rule per option across the sub-commands: the same durations, ranges and file names are
taken (or refused, in the same words) by ``run``, ``sim``, ``check``, ``replay`` and
``export``; an option a run would ignore is refused; bad input is one line and exit 2."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tracer.cli import build_parser, main
from tracer.cli.body import MAX_BODY_BYTES
from tracer.tui.examples import loop_example

pytestmark = pytest.mark.timeout(60)

APP = "sample_apps.hello:asgi_app"


def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one stderr line of ``trace ARGV``, which must exit 2 and print nothing on stdout."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert (code, out) == (2, ""), err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def _recording(path: Path, *, cut: bool = False) -> str:
    recording = loop_example()
    lines = [json.dumps(recording.header)] + [json.dumps(e.to_dict()) for e in recording.events]
    text = "\n".join(lines) + "\n"
    path.write_text(text[:-20] if cut else text, encoding="utf-8")
    return str(path)


# -- durations: one parser ------------------------------------------------------------------------

FORMS = [
    ("100us", 0.0001), ("100µs", 0.0001), ("500ms", 0.5), ("10", 10.0), ("1.5s", 1.5),
    ("2m", 120.0), ("1h", 3600.0),
]  # fmt: skip


@pytest.mark.parametrize("text,seconds", FORMS)
def test_run_and_sim_take_the_same_duration_forms(text: str, seconds: float) -> None:
    """``sim -z 2m`` and ``sim -z 10`` were refused, ``run -z 100us`` too: each takes a unit
    (us, ms, s, m, h) or a plain number of seconds, and sim has it in nanoseconds."""
    from tracer.cli.run import config_from_args
    from tracer.cli.sim import build_config

    parser = build_parser()
    run = config_from_args(parser.parse_args(["run", "-z", text, "--timeout", text]))
    assert run.duration == run.timeout == pytest.approx(seconds, rel=1e-12)
    sim = build_config(parser.parse_args(["sim", "-z", text, "--no-record"]))
    assert sim.duration_ns == round(seconds * 1e9)


def test_check_takes_a_timeout_with_a_unit(capsys: pytest.CaptureFixture[str]) -> None:
    """``trace check --timeout 500ms`` was refused (float seconds only)."""
    assert main(["check", APP, "--timeout", "500ms"]) == 0
    assert capsys.readouterr().out.endswith("(asgi): no violations in 5 requests\n")


COMMANDS = [
    ["run", APP, "-z"],
    ["run", APP, "--timeout"],
    ["sim", "-z"],
    ["check", APP, "--timeout"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize(
    "text,words",
    [
        ("0", '"0" is zero: give a duration above 0, such as 10s, 500ms, 100us, 2m or 1h '
              "(a plain number is seconds)."),
        ("-1s", '"-1s" is negative: give a duration above 0, such as 10s, 500ms, 100us, 2m or 1h '
                "(a plain number is seconds)."),
        ("ten", '"ten" is not a duration: give a duration above 0, such as 10s, 500ms, 100us, '
                "2m or 1h (a plain number is seconds)."),
        ("1e300s", '"1e300s" is too long: give at most {most}.'),
    ],
)  # fmt: skip
def test_every_duration_option_refuses_in_the_same_words(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str], text: str, words: str
) -> None:
    """``sim -z 0`` said "has no unit" where ``run -z 0`` said "is zero", and check "must be
    a number of seconds": one message, naming the option as typed."""
    record = tmp_path / "r.jsonl"
    err = _usage_error([*command, text, "--record", str(record)], capsys)
    most = "1h" if command[0] == "check" else "about 292 years"
    assert err == f"trace: error: {command[-1]} {words.format(most=most)}\n"
    assert not record.exists()


# -- ranges: one rule, one message ----------------------------------------------------------------


@pytest.mark.parametrize(
    "argv,flag",
    [
        (["run", APP, "--rate"], "--rate"),
        (["sim", "--rate"], "--rate"),
        (["run", APP, "--block-threshold-ms"], "--block-threshold-ms/--block-threshold"),
        (["sim", "--model", "loop", "--block-threshold-ms"], "--block-threshold-ms/--block-threshold"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("value", ["0", "-1"])
def test_rate_and_block_threshold_have_one_rule(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], flag: str, value: str
) -> None:
    """``run --rate -1`` said "give 0 or more", then ``--rate 0`` "must be greater than 0";
    ``sim --model loop --block-threshold-ms 0`` was taken where run refused it: both options
    are above 0 everywhere, said the same way."""
    record = tmp_path / "r.jsonl"
    err = _usage_error([*argv, value, "-n", "1", "--record", str(record)], capsys)
    command = argv[0]
    assert (
        err
        == f"trace {command}: error: argument {flag}: {value} is out of range: give a number above 0\n"
    )
    assert not record.exists()


@pytest.mark.parametrize("value", ["0", "-1"])
def test_replay_block_threshold_has_the_same_rule(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, value: str
) -> None:
    """``trace replay --block-threshold-ms 0`` was taken: the threshold is above 0 as in run."""
    path = _recording(tmp_path / "run.jsonl")
    shot = tmp_path / "x.svg"
    err = _usage_error(
        ["replay", path, "--block-threshold", value, "--screenshot", str(shot)], capsys
    )
    assert err == (
        "trace replay: error: argument --block-threshold-ms/--block-threshold: "
        f"{value} is out of range: give a number above 0\n"
    )
    assert not shot.exists()


# -- what a run would ignore is refused -----------------------------------------------------------


def test_run_refuses_clients_beside_a_rate_as_sim_does(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``trace run -c 5 --rate 1000`` dropped -c (its header said ``"concurrency": null``)."""
    record = tmp_path / "r.jsonl"
    run = _usage_error(
        ["run", APP, "-c", "5", "--rate", "1000", "-n", "2", "--record", str(record)], capsys
    )
    sim = _usage_error(["sim", "-c", "5", "--rate", "1000", "--no-record"], capsys)
    said = "error: argument --rate: not allowed with argument -c/--concurrency\n"
    assert (run, sim) == (f"trace run: {said}", f"trace sim: {said}")
    assert not record.exists()


@pytest.mark.parametrize(
    "argv,line",
    [
        (["--lang", "zh", "--headless"],
         "--lang is the live dashboard's language, and --headless runs without it "
         "(the report is English): drop --lang."),
        (["--lang", "en", "--json"],
         "--lang is the live dashboard's language, and --json runs without it "
         "(the report is English): drop --lang."),
        (["--seed", "3", "--headless"],
         "--seed sets the open loop's arrival times (--rate R); the closed loop of -c clients "
         "draws nothing at random: drop --seed, or add --rate."),
    ],
)  # fmt: skip
def test_run_refuses_what_it_would_ignore(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], line: str
) -> None:
    """``--lang`` without the dashboard and ``--seed`` in a closed loop were silent no-ops."""
    record = tmp_path / "r.jsonl"
    err = _usage_error(["run", APP, *argv, "-n", "2", "--record", str(record)], capsys)
    assert err == f"trace: error: {line}\n"
    assert not record.exists()


def test_run_takes_a_seed_with_a_rate(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The seed of an open loop is what it was for: recorded in the header."""
    record = tmp_path / "r.jsonl"
    argv = [
        "run",
        APP,
        "--rate",
        "200",
        "--seed",
        "7",
        "-n",
        "3",
        "--json",
        "--record",
        str(record),
    ]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["requests"] == 3
    header = json.loads(record.read_text(encoding="utf-8").splitlines()[0])
    assert (header["load"]["seed"], header["load"]["rate"]) == (7, 200.0)


# -- --body-file is bounded -----------------------------------------------------------------------


def _limited_memory() -> None:
    # 2 GB of address space: an unbounded read of /dev/zero fails at once instead of
    # taking the machine's memory.
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


@pytest.mark.parametrize("made", ["device", "too large"])
def test_body_file_is_bounded(tmp_path: Path, made: str) -> None:
    """``--body-file /dev/zero`` read until memory ran out (a MemoryError traceback); a file
    past 64 MiB is one line and exit 2 too."""
    if made == "device":
        body = "/dev/zero"
        line = f'--body-file "{body}" is not a regular file; give a file of at most 64 MiB (or -d BODY).'
    else:
        body = str(tmp_path / "big.bin")
        with open(body, "wb") as handle:
            handle.truncate(MAX_BODY_BYTES + 1)  # sparse: nothing is written to disk
        line = (
            f'--body-file "{body}" is larger than a request body may be here '
            f"({MAX_BODY_BYTES + 1:,} bytes): give a file of at most 64 MiB."
        )
    record = tmp_path / "r.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "run", APP, "-n", "1", "--headless",
         "--body-file", body, "--record", str(record)],
        capture_output=True, text=True, timeout=50, preexec_fn=_limited_memory,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"trace: error: {line}\n")
    assert not record.exists()


def test_body_file_of_the_bound_is_sent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A body of 64 MiB exactly is still a body: the request says its length."""
    body = tmp_path / "body.bin"
    with open(body, "wb") as handle:
        handle.truncate(MAX_BODY_BYTES)
    record = tmp_path / "r.jsonl"
    argv = [
        "run",
        APP,
        "-n",
        "1",
        "-c",
        "1",
        "--json",
        "--body-file",
        str(body),
        "--record",
        str(record),
    ]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["completed"] == 1


# -- file names: empty ones refused, missing folders made, a suffix that says another format ------


@pytest.mark.parametrize(
    "argv,line",
    [
        (["check", APP, "-o", ""],
         "-o needs a file name, not an empty string; leave -o out for the report on stdout."),
        (["check", APP, "--record", ""],
         "--record needs a file name, not an empty string; leave --record out."),
        (["export", "{rec}", "--to", "svg", "-o", ""],
         "-o needs a file name (or - for stdout), not an empty string; leave -o out to write "
         "next to FILE."),
        (["export", "{rec}", "--to", "svg", "-o", "{dir}/x.png"],
         '--to svg writes SVG: give -o a file name ending in .svg, not "{dir}/x.png".'),
    ],
)  # fmt: skip
def test_output_names_that_say_nothing_or_another_format_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], line: str
) -> None:
    """``export -o ''`` wrote run.svg, ``check -o ''`` wrote to stdout, ``check --record ''``
    was taken, ``export --to svg -o x.png`` wrote SVG into a .png: one line, exit 2 (as
    ``run --record ''`` and ``replay --screenshot x.png`` say), and nothing written."""
    rec = _recording(tmp_path / "run.jsonl")
    values = {"rec": rec, "dir": str(tmp_path)}
    err = _usage_error([word.format(**values) for word in argv], capsys)
    assert err == f"trace: error: {line.format(**values)}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.jsonl"]


@pytest.mark.parametrize(
    "argv",
    [
        ["replay", "{rec}", "--screenshot", "{out}.svg"],
        ["export", "{rec}", "--to", "svg", "-o", "{out}.svg"],
        ["export", "{rec}", "--to", "perfetto", "-o", "{out}.json"],
    ],
    ids=["replay --screenshot", "export svg", "export perfetto"],
)
def test_missing_folders_of_an_output_are_made(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    """``replay --screenshot`` refused a missing folder where ``demo --screenshot`` and every
    ``--record`` made it: every output makes its folders."""
    rec = _recording(tmp_path / "run.jsonl")
    out = tmp_path / "new" / "deeper" / "figure"
    assert main([word.format(rec=rec, out=out) for word in argv]) == 0
    written = [p for p in (tmp_path / "new" / "deeper").iterdir()]
    assert [p.name for p in written] == [f"figure.{argv[-1].rsplit('.', 1)[1]}"]
    assert written[0].stat().st_size > 0


def test_a_refused_screenshot_leaves_no_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The up-front check of a screenshot's path leaves nothing behind when the recording
    then cannot be read."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n", encoding="utf-8")
    shot = tmp_path / "new" / "x.svg"
    _usage_error(["replay", str(bad), "--screenshot", str(shot)], capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl"]


# -- smaller ones ---------------------------------------------------------------------------------


def test_replay_screenshot_warns_of_a_cut_short_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``summary`` and ``export`` warned of a recording whose last line was cut; replay did not."""
    path = _recording(tmp_path / "cut.jsonl", cut=True)
    assert main(["replay", path, "--screenshot", str(tmp_path / "x.svg")]) == 0
    err = capsys.readouterr().err
    assert err == (
        f"trace: warning: {path} ends with a cut-short line (the run was interrupted): "
        "it is left out.\n"
    )


def test_app_dir_has_one_metavar(capsys: pytest.CaptureFixture[str]) -> None:
    """``run --help`` said APP_DIR where ``check --help`` says DIR."""
    for command in ("run", "check"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "--app-dir DIR" in capsys.readouterr().out

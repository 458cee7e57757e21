"""``trace summary FILE [--json]``: the same report as the run, from the recording alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import trace_cli

from tracer.cli import main

pytestmark = pytest.mark.timeout(120)


def _blocking_run(capsys: pytest.CaptureFixture[str], record: str, *, requests: int) -> str:
    """``trace run --json`` of the blocking sample (15 ms sleeps, -c 3) into ``record``."""
    argv = ["run", "sample_apps.blocking:app", "--path", "/?ms=15", "-c", "3", "--json"]
    _, out, _ = trace_cli(capsys, *argv, "-n", str(requests), "--record", record)
    return out


def test_summary_matches_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The JSON of `trace summary --json` is the JSON `trace run --json` printed."""
    record = str(tmp_path / "run.jsonl")
    run_out = _blocking_run(capsys, record, requests=6)
    code, out, _ = trace_cli(capsys, "summary", record, "--json")
    assert code == 0 and json.loads(out) == json.loads(run_out)
    assert json.loads(out)["loop_blocked_ms"] >= 6 * 15


def test_summary_report_names_the_culprit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table shows the loop-blocking place (file:line) of the blocking sample."""
    record = str(tmp_path / "run.jsonl")
    _blocking_run(capsys, record, requests=3)
    code, out, _ = trace_cli(capsys, "summary", record)
    assert code == 0 and "Loop blocked" in out and "blocking.py:" in out


def test_gzip_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A .jsonl.gz recording reads back the same way."""
    record = str(tmp_path / "run.jsonl.gz")
    _, run_out, _ = trace_cli(capsys, "run", "-n", "10", "--json", "--record", record)
    code, out, _ = trace_cli(capsys, "summary", record, "--json")
    assert code == 0 and json.loads(out) == json.loads(run_out)


@pytest.mark.parametrize("content", [None, "", "not json\n", '{"format": "other"}\n'])
def test_bad_recordings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None
) -> None:
    """Missing, empty or foreign files: one line on stderr, exit 2."""
    path = tmp_path / "x.jsonl"
    if content is not None:
        path.write_text(content)
    code, _, err = trace_cli(capsys, "summary", str(path))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_broken_line_before_the_last_is_rejected_as_load_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad line in the middle is corruption (one line, exit 2, naming the line); the same bad
    line at the end is a run cut short: summarised, and said so."""
    record = tmp_path / "run.jsonl"
    trace_cli(capsys, "run", "-n", "5", "--json", "--record", str(record))
    lines = record.read_text().splitlines(keepends=True)
    middle = tmp_path / "middle.jsonl"
    middle.write_text("".join([*lines[:3], "not json\n", *lines[3:]]))
    code, _, err = trace_cli(capsys, "summary", str(middle))
    assert code == 2 and err.strip().splitlines() == [
        f'trace: error: "{middle}": line 4 is not a valid event (not JSON).'
    ]
    typed = tmp_path / "typed.jsonl"  # JSON, but "data" is not an object
    typed.write_text("".join([*lines[:3], '{"seq": 99, "t": 5, "kind": "x", "data": [1]}\n']))
    typed.write_text(typed.read_text() + "".join(lines[3:]))
    code, _, err = trace_cli(capsys, "summary", str(typed))
    assert code == 2 and err.strip().splitlines() == [
        f'trace: error: "{typed}": line 4 is not a valid event ("data" is an array, not an object).'
    ]
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(lines) + '{"seq": 9, "t"')
    code, out, _ = trace_cli(capsys, "summary", str(cut))
    assert code == 0 and "cut-short" in out


def test_help_says_what_it_prints(capsys: pytest.CaptureFixture[str]) -> None:
    """`trace summary --help` describes the report, not just the arguments."""
    with pytest.raises(SystemExit) as info:
        main(["summary", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "as trace run prints it" in " ".join(out.split())

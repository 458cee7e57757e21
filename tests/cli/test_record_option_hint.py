"""``trace run ... -o rec.jsonl`` (and ``trace sim``, ``trace demo``): ``-o`` is ``trace
export``'s option; a command that writes a recording names the one it takes instead,
``--record FILE`` (``--record DIR`` for the demo), in argparse's one line and exit code 2."""

from __future__ import annotations

import pytest
from cli_helpers import trace_cli

pytestmark = pytest.mark.timeout(60)

APP = "sample_apps.hello:asgi_app"


@pytest.mark.parametrize(
    ("argv", "given", "record"),
    [
        (["run", APP, "-o", "rec.jsonl"], "-o rec.jsonl", "--record FILE"),
        (["run", "-o", "rec.jsonl", APP], "-o " + APP, "--record FILE"),
        (["run", APP, "--output", "rec.jsonl"], "--output rec.jsonl", "--record FILE"),
        (["run", APP, "--output=rec.jsonl"], "--output=rec.jsonl", "--record FILE"),
        (["sim", "-n", "3", "-orec.jsonl"], "-orec.jsonl", "--record FILE"),
        (["sim", "--out", "rec.jsonl"], "--out rec.jsonl", "--record FILE"),
        (["demo", "cpu-gil", "--sim", "-o", "recs"], "-o recs", "--record DIR"),
    ],
    ids=["run", "run-first", "run-output", "run-output=", "sim-attached", "sim-out", "demo"],
)
def test_o_names_the_record_option(
    capsys: pytest.CaptureFixture[str], argv: list[str], given: str, record: str
) -> None:
    """Nothing is run; the line says what was not recognized and what to use."""
    code, out, err = trace_cli(capsys, *argv)
    assert (code, out) == (2, "")
    assert err == (
        f"trace {argv[0]}: error: unrecognized arguments: {given} (-o is for trace export; "
        f"to choose where the recording is written, use {record})\n"
    )


def test_other_unknown_options_are_said_as_before(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown option other than ``-o`` is argparse's plain line."""
    code, _, err = trace_cli(capsys, "run", APP, "--colour")
    assert code == 2
    assert err == "trace: error: unrecognized arguments: --colour\n"


def test_export_still_takes_o(capsys: pytest.CaptureFixture[str]) -> None:
    """``trace export``'s own ``-o``: parsed as its option (the recording's absence is what
    is said)."""
    code, _, err = trace_cli(capsys, "export", "missing.jsonl", "--to", "svg", "-o", "x.svg")
    assert code == 2
    assert "unrecognized" not in err and "missing.jsonl" in err

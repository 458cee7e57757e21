"""``trace sim --json`` names the places that blocked the loop, as ``trace run --json`` and
``trace summary --json`` do (``loop_blocked_places``); the rest is the simulator's summary,
equal to ``tracer.summarize`` of its recording."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracer.cli import main
from tracer.cli import sim as sim_cli
from tracer.recording import load
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(60)

BLOCKING = ["sim", "--model", "loop", "--blocking-io", "20ms", "-c", "4", "-n", "20", "--json"]
PLACE = {
    "place": "sim:inline:blocking-io",
    "count": 20,
    "total_ms": 400.0,
    "max_ms": 20.0,
    "delayed": 19,
    "delayed_partial": False,
}


def test_a_blocking_simulation_names_its_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every request's blocking call held the loop 20 ms: one place, as ``trace summary
    --json`` of the recording says it; without the key, the summary of the recording."""
    path = tmp_path / "blocked.jsonl"
    assert main([*BLOCKING, "--record", str(path)]) == 0
    said = json.loads(capsys.readouterr().out)
    assert main(["summary", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == said
    assert said.pop("loop_blocked_places") == [PLACE]
    assert said == summarize(load(path))


def test_a_loop_never_blocked_has_no_places(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As in ``trace run --json``: no key when no place blocked the loop."""
    path = tmp_path / "free.jsonl"
    argv = ["sim", "--model", "loop", "--io", "20ms", "-c", "4", "-n", "20", "--json"]
    assert main([*argv, "--record", str(path)]) == 0
    said = json.loads(capsys.readouterr().out)
    assert "loop_blocked_places" not in said
    assert said == summarize(load(path))


def test_places_left_out_are_said_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a recording (``--no-record``), or one past the events the command reads back,
    the places are not known: stdout is the summary alone, and stderr says why and how to
    get them."""
    assert main([*BLOCKING, "--no-record"]) == 0
    out, err = capsys.readouterr()
    assert "loop_blocked_places" not in json.loads(out)
    assert "loop_blocked_places" in err and "--no-record" in err
    monkeypatch.setattr(sim_cli, "REPORT_EVENTS_MAX", 10)
    path = tmp_path / "long.jsonl"
    assert main([*BLOCKING, "--record", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "loop_blocked_places" not in json.loads(out)
    assert f"trace summary {path} --json" in err

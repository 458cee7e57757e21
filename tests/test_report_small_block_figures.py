"""The report's loop-blocked figures keep a block under 0.05 ms that was not nothing: a
20 µs block (``--block-threshold-ms 0.01``) read ``loop blocked 0.0 ms`` and ``Loop blocked
0.0 ms, by place`` above a table saying 0.02, where the JSON said 0.02 and the panel
``0.02ms``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracer.cli import main

pytestmark = pytest.mark.timeout(60)


def test_a_block_of_microseconds_is_not_zero_in_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tiny.jsonl"
    argv = ["sim", "--model", "loop", "--cpu", "20us", "-n", "1", "-c", "1"]
    assert main([*argv, "--block-threshold-ms", "0.01", "--record", str(path), "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["loop_blocked_ms"] == 0.02
    assert said["loop_blocked_places"][0]["total_ms"] == 0.02
    assert main(["summary", str(path)]) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["loop", "blocked", "0.02", "ms"] in lines
    assert "Loop blocked 0.02 ms, by place".split() in lines

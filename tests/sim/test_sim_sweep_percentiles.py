"""``trace sim --sweep``'s table follows the report's rule: a percentile only from the sample
that measures it (p99 from 100 completed requests), ``–`` below."""

from __future__ import annotations

import pytest

from tracer.cli import main


def _rows(capsys: pytest.CaptureFixture[str], requests: int) -> list[list[str]]:
    argv = ["sim", "--model", "loop", "--io", "50ms", "-c", "4", "-n", str(requests)]
    assert main([*argv, "--sweep", "workers=1,2"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("│")]
    return [[cell.strip() for cell in line.strip("│").split("│")] for line in lines]


def test_forty_requests_have_no_p99(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _rows(capsys, 40)
    assert [row[0] for row in rows] == ["1", "2"]
    assert [row[2:5] for row in rows] == [["50.0 ms", "50.0 ms", "–"]] * 2  # p50, p90, p99


def test_a_hundred_requests_measure_p99(capsys: pytest.CaptureFixture[str]) -> None:
    assert [row[2:5] for row in _rows(capsys, 100)] == [["50.0 ms", "50.0 ms", "50.0 ms"]] * 2

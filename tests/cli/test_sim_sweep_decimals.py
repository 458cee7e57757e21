"""``trace sim --sweep``'s figure columns line up on the decimal point, as the report's do.

Three thread counts of a simulated WSGI server with 2 ms of CPU and 5 ms of I/O per request:
``queued (mean)`` reads ``62.0 ms`` over ``3.92 ms`` over ``0``, right-aligned their points
stood in three places. The ``busiest`` column is words and stays right-aligned as written.
"""

from __future__ import annotations

import pytest

from tracer.cli import main
from tracer.report_columns import point_at

SWEEP = ["sim", "--model", "threads", "--cpu", "2ms", "--io", "5ms", "-n", "300"]


def _rows(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The sweep table's body rows, split into cells."""
    monkeypatch.setenv("COLUMNS", "160")
    assert main([*SWEEP, "--sweep", "threads=1,8,16"]) == 0
    body = [line for line in capsys.readouterr().out.splitlines() if line.startswith("│")]
    assert len(body) == 3
    return [line.strip("│").split("│") for line in body]


def test_each_figure_column_s_points_share_one_place(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _rows(capsys, monkeypatch)
    queued = [row[6] for row in rows]
    assert [cell.strip() for cell in queued] == ["62.0 ms", "3.92 ms", "0"]
    for index in (2, 6):  # p50 and queued (mean)
        places = {point_at(row[index]) for row in rows}
        assert len(places) == 1, (index, [row[index] for row in rows])


def test_the_busiest_words_stay_at_the_right_edge(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    busiest = [row[8] for row in _rows(capsys, monkeypatch)]
    assert [cell.rstrip() for cell in busiest] == [cell[:-1] for cell in busiest]
    assert busiest[0].strip() == "threads 100%"

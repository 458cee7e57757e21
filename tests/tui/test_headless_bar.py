"""The headless progress bar's line fits the terminal and keeps what matters most.

At 40 columns the line was ``trace … unanswered 10  failed response…``: rich squeezed every
column, and the requests done and the time elapsed went first. Now the bar goes first, then
the counts; done/total and the time elapsed stay.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from tracer.cli import main

ELAPSED = re.compile(r"\b\d+:\d\d:\d\d\b")


def _line(width: int, total: int = 40, *, seconds: bool = False) -> str:
    """The bar's last line at ``width`` columns, a third of the way, 10 unanswered, 3 failed."""
    from tracer.cli.headless import progress_bar

    out = io.StringIO()
    with progress_bar(Console(file=out, width=width), total, seconds=seconds) as bar:
        bar.update(bar.task_ids[0], completed=total // 3, unanswered=10, errors=3)
    lines = out.getvalue().splitlines()
    assert lines and all(len(line) <= width for line in lines)
    return lines[-1]


def test_at_80_columns_everything_shows() -> None:
    line = _line(80)
    assert line.startswith("trace run ━")
    assert "13/40" in line and ELAPSED.search(line)
    assert line.endswith("unanswered 10 failed responses 3")


def test_at_60_columns_the_bar_goes_first() -> None:
    line = _line(60)
    assert "━" not in line
    assert (
        line == f"trace run 13/40 {ELAPSED.search(line).group()} unanswered 10 failed responses 3"
    )  # type: ignore[union-attr]


def test_at_40_columns_done_and_elapsed_stay() -> None:
    """The counts go before requests done and the time: nothing is cut to an ellipsis."""
    for total, seconds, done in (
        (40, False, "13/40"),
        (10_000, False, "3333/10000"),
        (30, True, "10/30 s"),
    ):
        line = _line(40, total, seconds=seconds)
        assert done in line and ELAPSED.search(line), line
        assert "…" not in line and "━" not in line


def test_a_headless_run_at_40_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``trace run --headless`` with ``COLUMNS=40``: its bar on stderr says the requests done
    and the time, uncut."""
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.chdir(tmp_path)
    argv = ["run", "sample_apps.hello:wsgi_app", "--headless", "-n", "6", "-c", "2"]
    assert main([*argv, "--record", str(tmp_path / "r.jsonl")]) == 0
    err = capsys.readouterr().err
    bar = [line for line in err.splitlines() if line.startswith("trace run")]
    assert bar, err
    assert "6/6" in bar[-1] and ELAPSED.search(bar[-1]) and "…" not in bar[-1], bar[-1]

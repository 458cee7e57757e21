"""The report's numeric columns line up on the decimal point, each figure's text unchanged.

A figure keeps three significant digits without trailing zeros (``tracer.figures``): right-
aligned, ``8.6`` stood under ``8.95`` one cell to the right of it. The recordings are the
threads example (10 requests on four threads of a simulated WSGI server: ``on CPU ms`` reads
``8.6`` and ``8.95``, the latency table ``10.5`` over ``0.912``) and the loop example (a route
whose p50 is ``–``), written to a file and read by ``trace summary``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rich.cells import cell_len

from tracer.cli import main
from tracer.recording import Recording
from tracer.report_columns import aligned, point_at
from tracer.tui.examples import loop_example, threads_example

TITLES = ("Latency (ms)", "Latency by route (ms)", "Workers", "Loop blocked")


def _write(recording: Recording, path: Path) -> str:
    lines = [json.dumps(recording.header)] + [json.dumps(e.to_dict()) for e in recording.events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def threads_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _write(threads_example(10, 4), tmp_path_factory.mktemp("decimals") / "threads.jsonl")


@pytest.fixture(scope="module")
def loop_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _write(loop_example(8), tmp_path_factory.mktemp("decimals") / "loop.jsonl")


def _summary(
    path: str, width: int, capsys: pytest.CaptureFixture[str], mp: pytest.MonkeyPatch
) -> str:
    """``trace summary PATH`` at ``width`` columns: its stdout (exit 0)."""
    mp.setenv("COLUMNS", str(width))
    assert main(["summary", path]) == 0
    return capsys.readouterr().out


def _bodies(text: str) -> dict[str, list[str]]:
    """Each bordered table's body rows (``│ … │``), by its title."""
    found: dict[str, list[str]] = {}
    title = ""
    for line in text.splitlines():
        if not line.startswith(("│", "┃", "┏", "┡", "└")):
            title = line.strip()
        elif line.startswith("│"):
            found.setdefault(title, []).append(line)
    return found


def _cells(line: str) -> list[tuple[int, str]]:
    """A bordered row's cells: where each starts in the line, and its text."""
    cells, start = [], 0
    for part in line.split("│")[1:-1]:
        start += 1
        cells.append((start, part))
        start += len(part)
    return cells


def _points(rows: list[str]) -> dict[int, set[int]]:
    """Column -> the line index where each of its figures' whole part ends (``point_at``)."""
    columns: dict[int, set[int]] = {}
    for line in rows:
        for column, (start, cell) in enumerate(_cells(line)):
            figure = cell.strip()
            if not re.fullmatch(r"[\d,.–%+]+", figure) or not any(c.isdigit() for c in cell):
                continue
            at = point_at(figure)
            assert at is not None
            columns.setdefault(column, set()).add(start + cell.index(figure) + at)
    return columns


def test_each_column_s_decimal_points_share_one_place(
    threads_file: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wide (120 columns): in every numeric column, the points of ``8.6`` and ``8.95``, of
    ``10.5`` and ``0.912``, stand at one index; each figure is written as before."""
    text = _summary(threads_file, 120, capsys, monkeypatch)
    bodies = _bodies(text)
    assert {"Latency (ms)", "Latency by route (ms)", "Workers"} <= set(bodies), text
    workers = bodies["Workers"]
    assert any("8.6 " in row for row in workers) and any("8.95" in row for row in workers)
    assert any(" 0.912 " in row for row in bodies["Latency (ms)"]), text
    for title, rows in bodies.items():
        for column, places in _points(rows).items():
            assert len(places) == 1, (title, column, places, text)
    # The figures as ``tracer.figures`` writes them, the padding outside them.
    cpu = [_cells(row)[3][1] for row in workers]
    assert [cell.strip() for cell in cpu] == ["8.6", "8.95", "8.63", "2.95"]
    assert {cell_len(cell) for cell in cpu} == {cell_len(cpu[0])}


def test_a_missing_figure_keeps_to_the_right_edge(
    loop_file: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The route ``/block`` has no p50 (one request): its ``–`` is not a figure to line up and
    stays at the column's right edge, under the last digit of ``/``'s ``40.2``."""
    text = _summary(loop_file, 120, capsys, monkeypatch)
    rows = _bodies(text)["Latency by route (ms)"]
    p50 = {_cells(row)[0][1].strip(): _cells(row)[2] for row in rows}
    start, dash = p50["/block"]
    start_, figure = p50["/"]
    assert dash.strip() == "–" and figure.strip() == "40.2", text
    assert start + dash.index("–") == start_ + figure.index("40.2") + 3


@pytest.mark.parametrize("width", [80, 60, 40])
def test_the_narrow_forms_line_up_and_fit(
    threads_file: str,
    width: int,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At 80, 60 and 40 columns every line fits, and the workers' rows (bordered or not) put
    their points at the same indexes."""
    text = _summary(threads_file, width, capsys, monkeypatch)
    for line in text.splitlines():
        assert cell_len(line.rstrip()) <= width, (width, line)
    workers = [line for line in text.splitlines() if re.match(r"[│ ]*worker-\d", line)]
    assert len(workers) == 4, text
    places = {tuple(m.start() for m in re.finditer(r"\d\.\d", row)) for row in workers}
    assert len(places) == 1 and len(next(iter(places))) == 2, (places, text)


def test_the_json_keeps_its_numbers(
    threads_file: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--json`` is the summary's numbers, none padded nor written as text."""
    monkeypatch.setenv("COLUMNS", "120")
    assert main(["summary", threads_file, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert all(type(value) is float for value in data["latency_ms"].values())


@pytest.mark.parametrize(
    "cells,expected",
    [
        (["3.13", "3.1", "12.3"], ["3.13", "3.1 ", "12.3 "]),
        (["1,234.6", "0.004", "–"], ["1,234.6  ", "0.004", "–"]),
        (["600.0 µs", "1.5 s", "40.0 µs"], ["600.0 µs", "1.5 s ", "40.0 µs"]),
        (["12", "7+", "1,000"], ["12 ", "7+", "1,000 "]),
        (["80%", "100%", "5%"], ["80%", "100%", "5%"]),
    ],
)
def test_cells_are_padded_to_the_longest_fraction(cells: list[str], expected: list[str]) -> None:
    """What follows the point (a unit, ``%``, the ``+`` of a bound) goes with it; a whole
    number ends where the units would; ``–`` (no digit) is left as it is."""
    assert aligned(cells) == expected

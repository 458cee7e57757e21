"""A figure there is none of reads ``–`` (an en dash) in the report and in a sweep's table, as
the dashboard's header, the replay's panel and the HTML page write it: the report wrote ``-``.
On a stream that cannot encode the dash it is written ``-`` (``tracer.cli.encoding``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracer.cli import main

pytestmark = pytest.mark.timeout(60)

MIXED = ["sim", "--model", "loop", "--workload", "mixed", "-n", "30", "-c", "2"]
ROUTES = [
    "│ /         │       24 │ 20.0 │ 65.7 │ 283.3 │",
    "│ /export   │        3 │ 26.5 │    – │  29.9 │",
    "│ /report   │        1 │    – │    – │  58.1 │",
    "│ /download │        2 │ 25.0 │    – │  25.0 │",
]
"""The by-route rows of the bundled ``mixed`` workload's 30 requests: p90 needs 10 values,
p50 two."""


def _routes(text: str) -> list[str]:
    """The body rows of the by-route table."""
    lines = [line.rstrip() for line in text.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("Latency by route"))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("└"))
    return lines[start + 4 : end]


def test_the_summary_writes_a_figure_not_measured_as_a_dash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mixed.jsonl"
    assert main([*MIXED, "--record", str(path), "--headless"]) == 0
    assert _routes(capsys.readouterr().out) == ROUTES  # trace sim's report
    assert main(["summary", str(path)]) == 0
    assert _routes(capsys.readouterr().out) == ROUTES
    env = {**os.environ, "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"}
    command = [sys.executable, "-m", "tracer", "summary", str(path)]
    plain = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
    assert plain.returncode == 0, plain.stderr
    assert _routes(plain.stdout) == ROUTES
    # An ASCII stream: the dash stands in as "-", rich's boxes as ASCII, nothing raised.
    ascii_env = {**env, "PYTHONIOENCODING": "ascii"}
    ascii_run = subprocess.run(command, env=ascii_env, capture_output=True, timeout=30)
    assert ascii_run.returncode == 0, ascii_run.stderr
    assert b"| /report   |        1 |    - |    - |  58.1 |" in ascii_run.stdout


def test_a_real_runs_report_writes_a_route_of_one_request_without_a_p50(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "sample_apps.hello:asgi_app", "-n", "5", "-c", "1", "--headless"]
    paths = ["--path", "/a", "--path", "/b", "--path", "/c"]  # round robin: 2, 2, 1
    assert main([*argv, *paths, "--record", str(tmp_path / "run.jsonl")]) == 0
    rows = {row.split()[1]: row.split("│")[2:-1] for row in _routes(capsys.readouterr().out)}
    assert sorted(rows) == ["/a", "/b", "/c"]
    requests, p50, _ = (cell.strip() for cell in rows["/c"])
    assert (requests, p50) == ("1", "–")
    assert all(cells[1].strip() not in ("-", "–") for route, cells in rows.items() if route != "/c")


def test_a_sweep_writes_figures_it_has_none_of_as_a_dash(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """30 requests measure no p99; requests of no work have no busiest resource."""
    argv = ["sim", "--model", "loop", "--io", "0ms", "-n", "30", "-c", "2"]
    assert main([*argv, "--sweep", "pool-size=1,2"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("│")]
    assert [[cell.strip() for cell in row.split("│")[1:-1]] for row in rows] == [
        [size, "n/a (zero time)", "0", "0", "–", "0", "0", "2", "–", "–"] for size in ("1", "2")
    ]

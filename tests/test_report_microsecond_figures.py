"""The report writes a time under 5 µs that is not nothing to the µs, as the summary keeps it:
a simulation of microsecond work had its time queued read ``0.00`` ms in the report's table,
where the JSON said 0.004. Figures computed here from the recording's raw lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tracer.cli import main


def _raw_queued_ms(path: Path) -> list[float]:
    """Each request's ``request.queued`` to its ``request.start``, ms, sorted."""
    queued: dict[int, int] = {}
    started: dict[int, int] = {}
    for line in path.read_text().splitlines()[1:]:
        event = json.loads(line)
        if event["kind"] == "request.queued":
            queued[event["req"]] = event["t"]
        elif event["kind"] == "request.start":
            started[event["req"]] = event["t"]
    return sorted((started[req] - queued[req]) / 1e6 for req in started)


def _row(report: str, label: str) -> list[str]:
    """The cells of a row of the report's latency table."""
    line = next(line for line in report.splitlines() if line.startswith(f"│ {label} "))
    return [cell.strip() for cell in line.strip("│").split("│")][1:]


def test_a_time_queued_of_microseconds_is_not_zero(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "us.jsonl"
    argv = ["sim", "--model", "loop", "--cpu", "4us", "-n", "4", "-c", "2", "--record"]
    assert main([*argv, str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    waits = _raw_queued_ms(path)
    assert waits == [0.0, 0.004, 0.004, 0.004]  # each but the first waited 4 µs for the loop
    mean = round(sum(waits) / len(waits), 3)
    assert (
        (summary["queue_ms"]["mean"], summary["queue_ms"]["p50"]) == (mean, 0.004) == (0.003, 0.004)
    )

    assert main(["summary", str(path)]) == 0
    report = capsys.readouterr().out
    # mean, p50, max to the µs, as the summary keeps them.
    assert _row(report, "queued") == ["0.003", "0.004", "0.004"], report
    assert _row(report, "total") == ["0.007", "0.008", "0.008"], report

"""The replay's summary panel writes a latency below 10 ms as the exported page and the
report do, to three significant digits: a 0.02 ms latency read ``0.0ms`` on the panel, a time
of nothing, where the JSON said 0.02 and the page ``0.02``. The figures here are computed from
the recording's raw lines, by this file's own arithmetic, and compared with each place."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tracer.cli import main
from tracer.recording import load
from tracer.tui.app import ReplayApp
from tracer.tui.summary_panel import SummaryPanel

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def _raw_latencies(path: Path) -> list[float]:
    """Each request's ``request.queued`` (else start) to its ``request.end``, ms, sorted."""
    arrived: dict[int, int] = {}
    ended: dict[int, int] = {}
    for line in path.read_text().splitlines()[1:]:
        event = json.loads(line)
        req, kind = event["req"], event["kind"]
        if kind in ("request.queued", "request.start"):
            arrived[req] = min(arrived.get(req, event["t"]), event["t"])
        elif kind == "request.end":
            end = event["t"] + (event["dur"] or 0)
            ended[req] = min(ended.get(req, end), end)
    return sorted((ended[req] - arrived[req]) / 1e6 for req in ended)


async def _panel(path: Path) -> str:
    app = ReplayApp([load(path)])
    async with app.run_test(size=(200, 30)) as pilot:
        await pilot.pause()
        (panel,) = app.screen.query(SummaryPanel)
        return " ".join(panel.render_line(y).text.strip() for y in range(panel.size.height))


async def test_a_latency_of_microseconds_is_not_zero_on_the_panel(
    tmp_path: Path, capsys: Any
) -> None:
    path = tmp_path / "tiny.jsonl"
    argv = ["sim", "--model", "loop", "--cpu", "20us", "-n", "4", "-c", "1", "--record"]
    assert main([*argv, str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    latencies = _raw_latencies(path)
    assert len(latencies) == 4 and latencies[0] == latencies[-1] > 0
    assert summary["latency_ms"]["p50"] == round(latencies[0], 3) == 0.02

    assert main(["export", str(path), "--to", "html", "-o", str(tmp_path / "tiny.html")]) == 0
    page = (tmp_path / "tiny.html").read_text()
    assert re.search(r"latency p50 \(ms\)</th><td[^>]*>0\.02<", page), page

    panel = await _panel(path)
    assert "latency p50 0.02ms" in panel, panel
    assert "p95" not in panel  # 4 values do not measure it
    # Nothing queued (one client): 0, written as the page writes it.
    assert summary["queue_ms"]["p50"] == 0.0
    assert re.search(r"queued p50 \(ms\)</th><td[^>]*>0\.0<", page), page
    assert "queue p50 0.0ms" in panel, panel

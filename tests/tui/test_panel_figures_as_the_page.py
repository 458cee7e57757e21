"""The replay's summary panel writes a latency from 1 to 100 ms as the exported page writes
it, to three significant digits: a 2.34 ms p50 read ``2.3ms`` on the panel where the JSON said
2.34 and the page ``2.34``. From 100 ms on the panel keeps whole ms (three digits already)."""

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


async def _panel(path: Path) -> str:
    app = ReplayApp([load(path)])
    async with app.run_test(size=(200, 30)) as pilot:
        await pilot.pause()
        (panel,) = app.screen.query(SummaryPanel)
        return " ".join(panel.render_line(y).text.strip() for y in range(panel.size.height))


def _page_p50(path: Path) -> str:
    found = re.search(r"latency p50 \(ms\)</th><td[^>]*>([^<]*)<", path.read_text())
    assert found, path.read_text()
    return found.group(1)


@pytest.mark.parametrize(
    ("cpu", "p50", "written"),
    [("2.34ms", 2.34, "2.34"), ("45.67ms", 45.67, "45.7"), ("123.4ms", 123.4, "123.4")],
)
async def test_the_panel_writes_a_latency_as_the_page(
    tmp_path: Path, capsys: Any, cpu: str, p50: float, written: str
) -> None:
    path = tmp_path / "run.jsonl"
    argv = ["sim", "--model", "loop", "--cpu", cpu, "-n", "4", "-c", "1", "--record", str(path)]
    assert main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["latency_ms"]["p50"] == p50
    assert main(["export", str(path), "--to", "html", "-o", str(tmp_path / "run.html")]) == 0
    assert _page_p50(tmp_path / "run.html") == written

    panel = await _panel(path)
    # Below 100 ms the page's figure; from 100 on, whole ms (the page's 123.4 is 123ms).
    shown = written if p50 < 100 else f"{p50:,.0f}"
    assert f"latency p50 {shown}ms " in f"{panel} ", panel

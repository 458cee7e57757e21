"""One figure, one way of writing it: a rate, a time in ms, a time of µs and a count read the
same in the report of ``trace summary``, ``trace sim``'s capacity line, its fallback table and
its sweep, ``trace demo --headless``, the live dashboard's header and the replay's panel.

The report wrote ``1000.0 requests/s`` where the capacity line of the same run wrote
``1000 req/s``; the sweep wrote ``600us`` where the exports write ``600.0 µs``; the live header
wrote a p50 of 1,106 ms ``1.11s`` where the panel it becomes writes ``1,106ms``, and its
progress ``1000/1000`` where the panel writes ``1,000``. ``--json`` keeps its numbers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pilot_helpers import until
from textual.widgets import Static

from tracer import figures
from tracer.cli import main
from tracer.recorder import Recorder
from tracer.recording import load
from tracer.summary import summarize
from tracer.tui.labels import labels
from tracer.tui.live import LiveApp, LiveScreen
from tracer.tui.summary_panel import summary_items

pytestmark = pytest.mark.timeout(60)

THOUSAND = ["sim", "--io", "4ms", "-c", "4", "-n", "400"]
"""4 threads of 4 ms of I/O: 1,000 requests a second, the capacity of the 4 threads too."""


@pytest.fixture
def anyio_backend() -> str:
    """The dashboard's test runs on asyncio, Textual's loop."""
    return "asyncio"


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]


def test_the_rules() -> None:
    """Each kind's rule, at the sizes that told them apart."""
    assert [figures.count(n) for n in (0, 4, 1000, 10_000)] == ["0", "4", "1,000", "10,000"]
    assert [figures.rate(r) for r in (0.25, 2.468, 39.84, 1000.0, 40_000.0)] == [
        "0.25",
        "2.47",
        "39.8",
        "1,000.0",
        "40,000.0",
    ]
    assert [figures.ms(t) for t in (0.004, 0.02, 2.345, 12.34, 1234.56)] == [
        "0.004",
        "0.02",
        "2.35",
        "12.3",
        "1,234.6",
    ]
    assert [figures.ms_in_short(t) for t in (0.02, 12.34, 99.94, 100.0, 1106.0)] == [
        "0.02ms",
        "12.3ms",
        "99.9ms",
        "100ms",
        "1,106ms",
    ]
    assert [figures.duration(ns) for ns in (0, 600_000, 3_260_000, 1_500_000_000)] == [
        "0",
        "600.0 µs",
        "3.26 ms",
        "1.5 s",
    ]
    assert figures.percent(0.75) == "75%" and figures.RATE_UNIT == "req/s"


def test_a_rate_reads_the_same_in_the_report_and_the_capacity_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """1,000 requests a second: ``1,000.0 req/s`` in the report of the run, in the report of
    ``trace summary`` and in the capacity line; ``--json`` keeps the number 1000.0."""
    path = tmp_path / "run.jsonl"
    assert main([*THOUSAND, "--record", str(path), "--headless"]) == 0
    out = _lines(capsys.readouterr().out)
    assert "throughput 1,000.0 req/s" in out
    assert out[-2] == "busiest: threads (4), keeps up to 1,000.0 req/s."
    assert main(["summary", str(path)]) == 0
    summary = _lines(capsys.readouterr().out)
    assert "throughput 1,000.0 req/s" in summary
    assert "requests 400 (400 completed)" in summary
    assert main(["summary", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rps"] == 1000.0


def test_the_table_without_a_recording_writes_the_reports_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--no-record`` prints the simulator's own table: its figures as the report's."""
    argv = ["sim", "--io", "1106ms", "-c", "10", "--threads", "10", "-n", "1000"]
    assert main([*argv, "--no-record"]) == 0
    rows = {
        cells[0]: cells[1]
        for line in capsys.readouterr().out.splitlines()
        if (cells := [cell.strip() for cell in line.strip("│").split("│")]) and len(cells) == 2
    }
    assert rows["requests"] == "1,000 / 1,000"
    assert rows["throughput"] == "9.04 req/s"
    assert rows["latency p50"] == "1,106.0 ms"
    assert rows["simulated time"] == "110.600 s"


def _sweep(encoding: str) -> list[str]:
    """The sweep's lines, printed on a stream of ``encoding``, their blanks squeezed."""
    argv = ["sim", "--io", "0.3ms", "-c", "2", "-n", "40", "--sweep", "threads=1,2"]
    done = subprocess.run(
        [sys.executable, "-m", "tracer", *argv],
        env={**os.environ, "PYTHONIOENCODING": encoding},
        capture_output=True,
        timeout=30,
    )
    assert done.returncode == 0 and not done.stderr, done.stderr
    return [" ".join(line.split()) for line in done.stdout.decode(encoding).splitlines()]


def test_a_sweep_writes_microseconds_as_the_exports_do_and_us_where_it_cannot() -> None:
    """The sweep's times in their largest unit, a space before it, ``µs`` as the lanes'
    tooltips write it, rates as the report's; on an ASCII stream ``us`` (the encoding's
    stand-in), not an error."""
    row = "1 │ 3,333.3 │ 600.0 µs │ 600.0 µs │ – │ 600.0 µs │ 292.0 µs │ 1 │ threads 100% │ 3,333.3 req/s"
    assert f"│ {row} │" in _sweep("utf-8")
    plain = row.replace("│", "|").replace("µ", "u").replace("–", "-")
    assert f"| {plain} |" in _sweep("ascii")


def test_demo_headless_writes_times_as_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    """A scenario's times in ms as the report writes them (``1,200.0``, not ``1200``), its
    counts as counts."""
    assert main(["demo", "sync-vs-async", "--sim", "--headless"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "  wsgi_p50_ms: 1,200.0" in out and "  asgi_p50_ms: 100.0" in out
    assert "  asgi_max_in_flight: 50" in out


@pytest.mark.anyio
async def test_the_live_header_writes_times_and_counts_as_the_panel_it_becomes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """1,000 requests of 1,106 ms: the header says ``1,000/1,000`` and ``p50 1,106ms`` (it
    said ``1000/1000`` and ``1.11s``), as the replay's panel says them, and the same rate."""
    simulated = tmp_path / "sim.jsonl"
    argv = ["sim", "--io", "1106ms", "-c", "100", "--threads", "100", "-n", "1000"]
    assert main([*argv, "--record", str(simulated), "--headless"]) == 0
    capsys.readouterr()
    recording = load(simulated)
    recorder = Recorder(tmp_path / "live.jsonl", flush_interval=0.02)
    recorder.header.update(recording.header)

    def work(stop: threading.Event) -> None:
        recorder.extend(recording.events)
        stop.wait(30)
        recorder.close()

    app = LiveApp(recorder, work, title="figures", total_requests=1000, lang="en")
    async with app.run_test(size=(200, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        await until(pilot, lambda: app.stats.snapshot().completed == 1000)
        await pilot.pause(0.3)
        header = screen.query_one("#live-header", Static)
        text = " ".join(header.render_line(y).text for y in range(header.size.height))
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    header_words = " ".join(text.split())
    panel = " ".join(
        item.plain for item in summary_items(summarize(recording.events), labels("en"))
    )
    assert "progress 1,000/1,000" in header_words, header_words
    for said in ("p50 1,106ms", "p99 1,106ms"):
        assert said in header_words and said in panel, (header_words, panel)
    rate = figures.rate(summarize(recording.events)["rps"])
    assert f"rps {rate}" in header_words and f"{rate} rps" in panel, (header_words, panel)

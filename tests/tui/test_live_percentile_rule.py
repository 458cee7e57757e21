"""The live dashboard shows a latency percentile only of a sample that measures it, as the
replay's summary panel, the report and the HTML page do (``tracer.report.measures``): p50 of 2
requests or more, p95 of 20, p99 of 100; "–" until then. It showed p95 and p99 of the first
request over: the one latency there was."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pilot_helpers import until
from textual.widgets import Static

from tracer import events as K
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.tui.live import LiveApp, LiveScreen

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

MS = 1_000_000


def _requests(count: int) -> list[Event]:
    """``count`` requests 20 ms apart, each 10 ms in the app on a thread of its own from the
    instant it arrived: every latency is 10 ms."""
    events: list[Event] = []
    for req in range(1, count + 1):
        arrived = req * 20 * MS
        for t, kind, data in (
            (arrived, K.REQUEST_QUEUED, {}),
            (arrived, K.REQUEST_START, {"scope_type": "http"}),
            (arrived + 10 * MS, K.REQUEST_END, {"status": 200}),
        ):
            events.append(Event(len(events), t, kind, req, 1, req, f"worker-{req}", data=data))
    return events


async def _percentiles(tmp_path: Path, count: int) -> str:
    """The header's percentiles once the run's ``count`` requests are all in."""
    recorder = Recorder(tmp_path / "run.jsonl", flush_interval=0.02)

    def work(stop: threading.Event) -> None:
        recorder.extend(_requests(count))
        stop.wait(30)
        recorder.close()

    app = LiveApp(recorder, work, title="percentiles", total_requests=count)
    async with app.run_test(size=(160, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        await until(pilot, lambda: app.stats.snapshot().completed == count)
        await pilot.pause(0.3)  # a redraw with every request in
        header = screen.query_one("#live-header", Static)
        rows = [header.render_line(y).text for y in range(header.size.height)]
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    text = " ".join(rows)
    start = text.index("p50 ")
    return " ".join(text[start : text.index("  rps", start)].split())


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (1, "p50 – p95 – p99 –"),
        (19, "p50 10.0ms p95 – p99 –"),
        (20, "p50 10.0ms p95 10.0ms p99 –"),
        (100, "p50 10.0ms p95 10.0ms p99 10.0ms"),
    ],
)
async def test_a_percentile_shows_once_its_sample_measures_it(
    tmp_path: Path, count: int, shown: str
) -> None:
    assert await _percentiles(tmp_path, count) == shown

"""A run that took no time has no rate on the live header either: ``–``, not ``rps 0.0``.

Requests that all ended the instant the first began (a simulation of zero-time work) took no
time; the report says ``n/a (zero time)``, the summary's ``rps`` is null and the replay's panel
and the HTML ``–``, but the live dashboard's header said ``rps 0.0``, a rate it never had. A
run with no request over yet is still at ``0.0``: none completed, in any time.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from pilot_helpers import until
from textual.widgets import Static

from tracer.cli import main
from tracer.recorder import Recorder
from tracer.recording import Recording, load
from tracer.summary import summarize
from tracer.tui.live import LiveApp, LiveScreen
from tracer.tui.live_stats import LiveStats
from tracer.tui.summary_panel import NONE

pytestmark = [pytest.mark.timeout(60)]


@pytest.fixture(scope="module")
def zero_time(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """A real simulation whose 5 requests do no work: each ends the instant it began."""
    path = tmp_path_factory.mktemp("zero") / "zero.jsonl"
    code = main(
        ["sim", "--cpu", "0ms", "--io", "0ms", "-n", "5", "-c", "1"]
        + ["--headless", "--record", str(path)]
    )
    assert code == 0
    return load(path)


def test_the_summary_and_the_stats_have_no_rate(zero_time: Recording) -> None:
    assert summarize(zero_time)["rps"] is None
    stats = LiveStats(load=zero_time.header.get("load"))
    stats.feed(zero_time.events)
    final = stats.snapshot()
    assert (final.completed, final.rps) == (5, None)
    # While the run goes on, on the clock the header is drawn at: no time has passed either.
    assert stats.snapshot(now=final.elapsed_ns).rps is None


def test_no_request_over_is_still_a_rate_of_zero() -> None:
    assert LiveStats().snapshot().rps == 0.0


@pytest.mark.anyio
async def test_the_live_header_shows_no_rate(zero_time: Recording, tmp_path: Path) -> None:
    recorder = Recorder()

    def work(stop: threading.Event) -> None:
        recorder.extend(zero_time.events)

    app = LiveApp(recorder, work, title="zero", total_requests=5)
    async with app.run_test(size=(200, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        await until(pilot, lambda: app.done.is_set() and app.stats.completed == 5)
        await pilot.pause(0.4)  # a redraw of the run's final figures
        header = screen.query_one("#live-header", Static)
        rows = " ".join(header.render_line(y).text for y in range(header.size.height))
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    shown = re.search(r"rps (\S+)", rows)
    assert shown is not None, rows
    assert shown.group(1) == NONE

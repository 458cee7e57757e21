"""The summary panel of a WSGI app on threads or processes says nothing of a loop blocked: there
is no event loop to block (the report leaves the line out, the exported table writes ``–``).
An app that ran on a loop keeps the figure, 0.0 ms included."""

from __future__ import annotations

import pytest

from tracer.recording import Recording
from tracer.tui.app import ReplayApp
from tracer.tui.summary_panel import SummaryPanel

from .conftest import simulated

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def _panels(recordings: list[Recording], lang: str) -> list[str]:
    """Each summary panel's text as drawn at 160x40."""
    app = ReplayApp(recordings, lang=lang)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        return [
            " ".join(panel.render_line(y).text.strip() for y in range(panel.size.height))
            for panel in app.screen.query(SummaryPanel)
        ]


@pytest.mark.parametrize(("lang", "words"), [("en", "loop blocked"), ("zh", "事件循环被阻塞")])
async def test_a_wsgi_threads_side_has_no_loop_figure(lang: str, words: str) -> None:
    """WSGI threads beside an ASGI loop: only the loop's panel has the figure."""
    threads, loop = simulated("threads"), simulated("loop")
    wsgi_panel, asgi_panel = await _panels([threads, loop], lang)
    assert words not in wsgi_panel, wsgi_panel
    assert f"{words} " in asgi_panel, asgi_panel


@pytest.mark.parametrize("model", ["threads", "processes"])
async def test_a_wsgi_run_alone_has_no_loop_figure(model: str) -> None:
    """A run of one WSGI recording (no loop step, no block) says nothing of a loop."""
    (panel,) = await _panels([simulated(model)], "en")
    assert "requests" in panel and "loop blocked" not in panel, panel


async def test_a_loop_that_was_never_blocked_says_0ms() -> None:
    """WSGI on the event loop (``wsgi-on-loop``) has a loop: 0.0ms is a figure there."""
    from sim import SimConfig, inline_workload, parse_dist, simulate
    from tracer.recorder import Recorder

    recorder = Recorder()
    workload = inline_workload(cpu=parse_dist("1ms"), io=parse_dist("2ms"))
    config = SimConfig(model="wsgi-on-loop", requests=6, concurrency=2, workload=workload)
    simulate(config, recorder=recorder)
    (panel,) = await _panels([recorder.recording()], "en")
    assert "loop blocked 0.0ms" in panel, panel

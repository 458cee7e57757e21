"""A big recording's replay draws its first frame without waiting for the summary panel's
figures (``tracer.summarize`` of 100,000 events and more takes seconds): the panel says they
are coming, and fills in with the very figures it would have shown, once they are computed
on a thread of their own. ``render_svg`` (``--screenshot``) waits for them."""

from __future__ import annotations

import asyncio
import threading

import pytest
from conftest import simulated
from pilot_helpers import until

from tracer.recording import Recording
from tracer.tui.app import ReplayApp, _screenshot
from tracer.tui.labels import labels
from tracer.tui.screen import FIGURES_ON_A_THREAD, ReplayScreen
from tracer.tui.summary_panel import SummaryPanel, summary_items

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def big() -> Recording:
    """A simulated WSGI run of just over ``FIGURES_ON_A_THREAD`` events (7 a request)."""
    recording = simulated("threads", requests=FIGURES_ON_A_THREAD // 7 + 10, concurrency=20)
    assert len(recording.events) >= FIGURES_ON_A_THREAD
    return recording


def _rows(panel: SummaryPanel) -> str:
    return " ".join(panel.render_line(y).text.strip() for y in range(panel.size.height))


async def test_the_first_frame_comes_before_the_figures(big: Recording) -> None:
    """The figures are held back (their model's lock taken by another thread): the first
    frame is up regardless, saying they are coming; let go, they fill the panel."""
    app = ReplayApp([big])
    (model,) = app.models
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with model._figures_lock:
            taken.set()
            release.wait(60)

    holder = threading.Thread(target=hold, name="test-holds-figures")
    holder.start()
    try:
        taken.wait(10)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, ReplayScreen)
            panel = screen.query_one(SummaryPanel)
            assert not screen.summed_up
            assert labels("en")["summing_up"] in _rows(panel)
            release.set()
            await until(pilot, lambda: screen.summed_up)
            await pilot.pause()
            shown = _rows(panel)
            items = summary_items(
                model.summary, labels("en"), model.samples, has_loop=model.has_loop
            )
            for item in items:
                assert item.plain in shown, (item.plain, shown)
            assert labels("en")["summing_up"] not in shown
    finally:
        release.set()
        holder.join()


def test_a_screenshot_waits_for_the_figures(big: Recording) -> None:
    """The figures held back as above while the screenshot is taken (let go once it is done,
    or after five seconds if it waits for them): it shows them, not the wait."""
    app = ReplayApp([big])
    (model,) = app.models
    taken = threading.Event()
    svgs: list[str] = []

    def screenshot() -> None:
        taken.wait(10)
        svgs.append(asyncio.run(_screenshot(app, (160, 50), ())))

    shot = threading.Thread(target=screenshot, name="test-screenshot")

    def hold() -> None:
        with model._figures_lock:
            taken.set()
            shot.join(5)

    holder = threading.Thread(target=hold, name="test-holds-figures")
    shot.start()  # it waits for the lock to be taken
    holder.start()
    shot.join(100)
    holder.join()
    (svg,) = svgs
    assert "summing" not in svg
    for word in ("requests", "rps", "p50"):
        assert word in svg

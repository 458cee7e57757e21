"""``m`` on a bookmark that points at a request (a ``mark`` event's ``data.req``) brings that
request's lane into view and selects it, in the recording the mark is from: enter opens it."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Static

from tracer import events as K
from tracer.demos import SCENARIOS, run_demo
from tracer.demos.runner import with_marks
from tracer.recording import Recording
from tracer.tui.app import ReplayApp
from tracer.tui.screen import Bookmark, ReplayScreen

from .conftest import simulated

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


def _in_view(screen: ReplayScreen) -> bool:
    timeline = screen.timeline
    top = int(timeline.scroll_offset.y)
    return top <= timeline.selected < top + timeline.scrollable_content_region.height


def _detail(screen: ReplayScreen) -> str:
    return screen.query_one("#detail-body", Static).render().plain  # type: ignore[attr-defined]


async def test_the_offload_demos_token_mark_opens_request_41_of_the_second_side() -> None:
    """``trace demo threadpool-offload --sim``: home, m, enter shows #41 of the 50-client
    side (the bottom one), its lane selected and on screen, not #1 of the top side."""
    demo = run_demo(SCENARIOS["threadpool-offload"], simulated=True)
    pointed = [
        (side, e.data["req"])
        for side, rec in enumerate(demo.recordings)
        for e in rec.events
        if e.kind == K.MARK and "req" in e.data
    ]
    assert pointed == [(1, 41)]  # the scenario's own: what this test is about
    app = ReplayApp(demo.recordings, caption=demo.caption)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await pilot.press("home", "m")
        await pilot.pause()
        assert screen.active == 1
        lane = screen.timeline.selected_lane
        assert lane is not None and lane.req == 41
        assert _in_view(screen)
        await pilot.press("enter")
        await pilot.pause()
        text = _detail(screen)
        title = demo.recordings[1].title_in("en")
        assert text.splitlines()[0].startswith(f"recording: {title}")
        assert text.splitlines()[1].startswith("#41 ")


def _marked(recording: Recording, req: int) -> Recording:
    return with_marks(recording, [(recording.events[-1].t // 2, {"label": "here", "req": req})])


async def test_a_mark_selects_its_request_in_its_own_recording() -> None:
    """Two recordings that both have request #30: the mark of the top one selects the top
    one's (though the bottom one is active), scrolled into view; a mark without a request
    leaves the selection alone."""
    top = _marked(simulated("threads", requests=40, concurrency=4), 30)
    bottom = simulated("loop", requests=40, concurrency=4)
    plain = Bookmark(1, "no request")
    app = ReplayApp([top, bottom])
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        assert [b.req for b in screen.bookmarks] == [30]
        assert [b.side for b in screen.bookmarks] == [0]
        await pilot.press("tab")
        assert screen.active == 1
        await pilot.press("home", "m")
        await pilot.pause()
        assert screen.active == 0
        lane = screen.timeline.selected_lane
        assert lane is not None and lane.req == 30
        assert _in_view(screen)
    app = ReplayApp([top, bottom], bookmarks=[plain])
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await pilot.press("home", "m")
        await pilot.pause()
        assert screen.viewport.cursor == 1
        assert screen.active == 0 and screen.timeline.selected == 0


async def test_a_given_mark_event_finds_the_recording_that_has_its_request() -> None:
    """A mark event passed as ``bookmarks`` says no recording: the request is looked for in
    the active one first, then the others (here only the bottom one has #50)."""
    top = simulated("threads", requests=20, concurrency=4)
    bottom = _marked(simulated("loop", requests=60, concurrency=4), 50)
    given: list[Any] = [e for e in bottom.events if e.kind == K.MARK]
    app = ReplayApp([top, bottom], bookmarks=given)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        assert screen.bookmarks[0].side is None
        await pilot.press("home", "m", "enter")
        await pilot.pause()
        assert screen.active == 1
        assert screen.timeline.selected_lane.req == 50  # type: ignore[union-attr]
        assert _in_view(screen)
        assert "#50 " in _detail(screen)

"""A frame of the live dashboard costs what the new requests cost, not what the run has done.

Measured as work, not time: the lines of the tool's own code a redraw runs (``sys.settrace``),
which a shared machine's load does not change. Late in a long run the dashboard used to sort
every latency so far and bin each of them again for every frame, so its redraw rate fell as
the run went on.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from pilot_helpers import until

import tracer
from tracer import events as K
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.tui.live import LiveApp, LiveScreen

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

MS = 1_000_000
_OURS = str(Path(tracer.__file__).parent)


def _requests(first: int, count: int, at: int) -> list[Event]:
    """``count`` requests from ``first`` on, 1 ms apart from ``at``: queued, started and ended
    (a 200) within the millisecond, as an in-process model records them."""
    events: list[Event] = []
    for i in range(count):
        req, t = first + i, at + i * MS
        events.append(Event(0, t, K.REQUEST_QUEUED, req, data={"path": "/"}))
        events.append(Event(0, t + MS // 10, K.REQUEST_START, req, data={"path": "/"}))
        events.append(Event(0, t + MS // 2, K.REQUEST_END, req, data={"status": 200}))
    return events


def _lines_run(call: Callable[[], Any]) -> int:
    """How many lines of tracer's own code ``call()`` runs."""
    count = 0

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if not frame.f_code.co_filename.startswith(_OURS):
            return None  # not ours: its lines are not counted
        if event == "line":
            count += 1
        return trace

    before = sys.gettrace()
    sys.settrace(trace)
    try:
        call()
    finally:
        sys.settrace(before)
    return count


async def test_a_frame_late_in_a_long_run_costs_what_one_early_in_it_does() -> None:
    """After 400 requests and after 6,000, a redraw that follows a batch of 20 new ones runs
    the same lines of the tool's code, give or take a few."""
    recorder = Recorder()  # in memory; the test feeds the dashboard's numbers itself
    app = LiveApp(recorder, lambda stop: stop.wait(30) and None, title="long run")
    costs = []
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        await until(pilot, lambda: screen.drawable)
        stats = app.stats
        at, first = 0, 1
        for done in (400, 6000):
            # The run so far, then a poll's batch seconds later and its frame (the requests
            # over long enough ago leave the in-flight counts)...
            stats.feed(_requests(first, done - first + 1, at))
            at += (done - first + 1) * MS + 5_000 * MS
            stats.feed(_requests(done + 1, 10, at))
            screen.redraw()
            # ...then the next poll's batch, and the frame that shows it.
            stats.feed(_requests(done + 11, 10, at + 10 * MS))
            costs.append(_lines_run(screen.redraw))
            first, at = done + 21, at + 5_000 * MS
        await pilot.press("q")
    small, big = costs
    assert big <= small * 1.1, costs  # it was 20 lines more per request the run had done

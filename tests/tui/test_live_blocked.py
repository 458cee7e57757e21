"""A blocked event loop on the live dashboard, while the run goes on.

One loop: #1 and #2 blocked it for 30 ms and 50 ms and ended, #3 holds it now (in the app, not
ended) and #4 to #42 are queued behind it. The header says how
long the loop has been blocked so far and the longest block; the recent-requests panel keeps
#1 on screen, and the last to end, however many newer requests are queued.
"""

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
from tracer.tui.live_stats import LiveStats
from tracer.tui.timeline import Timeline

pytestmark = [pytest.mark.timeout(60)]

MS = 1_000_000
LOOP = {"tid": 7, "thread": "loop"}
HTTP = {"scope_type": "http", "method": "GET", "path": "/"}
BODY = {"type": "http.response.body", "more_body": False}


def _run() -> list[Event]:
    """#1 and #2 block the loop for 30 and 50 ms and end; #3 is in the app; #4..#42 wait."""
    events: list[Event] = []

    def add(t: int, kind: str, req: int, dur: int | None = None, **data: object) -> None:
        events.append(Event(len(events), t, kind, req, **LOOP, dur=dur, data=dict(data)))

    t = 0
    for req, block in ((1, 30), (2, 50)):
        add(t, K.REQUEST_QUEUED, req)
        add(t, K.REQUEST_START, req, **HTTP)
        add(t, K.SCHED_STEP, req, dur=block * MS)
        add(t, K.LOOP_BLOCKED, req, dur=block * MS, delayed=[])
        t += block * MS
        add(t, K.ASGI_SEND, req, **BODY)
        add(t, K.REQUEST_END, req, status=200)
    add(t, K.REQUEST_QUEUED, 3)
    add(t, K.REQUEST_START, 3, **HTTP)
    for req in range(4, 43):
        add(t + req * MS, K.REQUEST_QUEUED, req)
    return events


def test_the_blocked_time_so_far_and_the_longest() -> None:
    """The total and the longest of the ``loop.blocked`` events fed so far."""
    stats = LiveStats()
    stats.feed(_run())
    snap = stats.snapshot()
    assert (snap.blocked_ns, snap.longest_block_ns) == (80 * MS, 50 * MS)


def test_the_request_in_the_app_stays_among_the_lanes() -> None:
    """In 10 rows: the two that ended last (a quarter of the rows), #3 (in the app), then the
    newest queued ones; in order of arrival."""
    stats = LiveStats()
    stats.feed(_run())
    shown = stats.shown_requests(10)
    assert len(shown) == 10
    assert shown == [1, 2, 3, *range(36, 43)]


@pytest.mark.anyio
async def test_the_dashboard_shows_both(tmp_path: Path) -> None:
    """On screen: ``loop blocked 80.0ms (longest 50.0ms)`` in the header, #3 (in the app) and
    #2 (the last blocker) among the recent lanes."""
    recorder = Recorder(tmp_path / "run.jsonl", flush_interval=0.02)

    def work(stop: threading.Event) -> None:
        recorder.extend(_run())
        stop.wait(30)
        recorder.close()

    app = LiveApp(recorder, work, title="blocked")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        header = screen.query_one("#live-header", Static)
        await until(pilot, lambda: "loop blocked 80.0ms (longest 50.0ms)" in str(header.render()))
        recent = screen.query_one("#recent", Timeline)
        await until(pilot, lambda: len(recent.lanes) > 0)
        reqs = [lane.req for lane in recent.lanes]
        assert {2, 3} <= set(reqs) and 42 in reqs, reqs
        assert len(reqs) <= recent.size.height
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    assert app.error is None

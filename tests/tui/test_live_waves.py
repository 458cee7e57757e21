"""The live header's "in flight" and "queued" on a steady load of closed-loop clients.

50 clients on an ``asyncio.sleep(0.1)`` app keep 50 requests in the app at almost every
instant, but they come and go in waves: a client sends its next request the moment its last
one ends, so 50 requests end, and 50 start, within a few milliseconds of each other. The
dashboard must read about 50 all along, not 0 or 50 depending on whether the instant it
counts at falls on a wave's edge.
"""

from __future__ import annotations

import pytest

from tracer import events as K
from tracer.cli import main
from tracer.recording import Recording, load
from tracer.tui.live_stats import LiveStats

MS = 1_000_000
WINDOW = 200 * MS
"""How far back from the instant a frame counts at the recording is looked at."""

APP = """
import asyncio

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await asyncio.sleep(0.1)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""


@pytest.fixture(scope="module")
def waves(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """A real run: the app above on the in-process loop, 50 clients, 600 requests."""
    folder = tmp_path_factory.mktemp("waves")
    (folder / "waveapp.py").write_text(APP, encoding="utf-8")
    path = folder / "run.jsonl"
    mp = pytest.MonkeyPatch()
    mp.syspath_prepend(str(folder))
    mp.chdir(folder)
    try:
        argv = ["run", "waveapp:app", "--headless", "-c", "50", "-n", "600"]
        assert main([*argv, "--record", str(path)]) == 0
    finally:
        mp.undo()
    return load(path)


def _in_app(recording: Recording) -> list[tuple[int, int]]:
    """Each request's time in the app, ``(request.start, request.end)``."""
    start: dict[int, int] = {}
    end: dict[int, int] = {}
    for event in recording.events:
        if event.req is None:
            continue
        if event.kind == K.REQUEST_START:
            start.setdefault(event.req, event.t)
        elif event.kind == K.REQUEST_END:
            end.setdefault(event.req, event.end)
    return [(start[req], end[req]) for req in start if req in end]


def _truth(spans: list[tuple[int, int]], t: int) -> int:
    return sum(1 for start, end in spans if start <= t < end)


def test_a_steady_50_never_reads_0(waves: Recording) -> None:
    """Replayed as the dashboard receives it (the recorder hands over a batch every 0.2 s, the
    dashboard drains them every 0.25 s; every phase of the two clocks, 2 ms apart), no frame
    whose last 0.2 s had 45 or more requests in the app nine tenths of the time reads less
    than 40 in flight (at a wave's edge the instant count read 0)."""
    spans = _in_app(waves)
    events = sorted(waves.events, key=lambda e: e.end)
    last = events[-1].end
    steady = checked = 0
    wrong: list[tuple[int, int, int]] = []
    for phase in range(0, 200 * MS, 2 * MS):
        stats = LiveStats()
        fed = 0
        flush = phase
        for poll in range(phase + 250 * MS, last, 250 * MS):
            while flush + 200 * MS <= poll:
                flush += 200 * MS
                batch = []
                while fed < len(events) and events[fed].end <= flush:
                    batch.append(events[fed])
                    fed += 1
                stats.feed(batch, now=poll)
            snap = stats.snapshot(poll)
            checked += 1
            window = range(snap.counted_at - WINDOW, snap.counted_at, MS)
            full = sum(1 for t in window if _truth(spans, t) >= 45)
            if full < 0.9 * len(window):
                continue
            steady += 1
            if snap.in_flight < 40:
                wrong.append((phase, poll, snap.in_flight))
    assert steady > checked // 2  # the run is steady most of the time
    assert wrong == []

"""The live header's "in flight" and "queued" on a steady load of closed-loop clients.

50 clients on an ``asyncio.sleep(0.1)`` app keep 50 requests in the app at almost every
instant, but they come and go in waves: a client sends its next request the moment its last
one ends, so 50 requests end, and 50 start, within a few milliseconds of each other. The
dashboard must read about 50 all along, not 0 or 50 depending on whether the instant it
counts at falls on a wave's edge.
"""

from __future__ import annotations

import random

import pytest

from tracer import events as K
from tracer.events import Event
from tracer.recording import Recording, make_header
from tracer.tui.live_stats import LiveStats

MS = 1_000_000
WINDOW = 200 * MS
"""How far back from the instant a frame counts at the recording is looked at."""


def _waves(clients: int = 50, rounds: int = 12, seed: int = 7) -> list[Event]:
    """A closed loop of ``clients`` on an app that awaits 100 ms (the in-process loop model,
    as a real run of ``asyncio.sleep(0.1)`` at -c 50 records it): each client's next request
    arrives the moment its last one ended and starts 0.5-1 ms later (the loop gets to it); the app's time is 100 ms
    plus up to 0.2 ms of scheduling. Deterministic (seeded), so the waves are the same every run."""
    rng = random.Random(seed)
    events: list[Event] = []
    seq = 0
    req = 0
    ready = [rng.randrange(2 * MS) for _ in range(clients)]
    for _ in range(rounds):
        for client in range(clients):
            req += 1
            arrived = ready[client]
            start = arrived + MS // 2 + rng.randrange(MS // 2)
            end = start + 100 * MS + rng.randrange(MS // 5)
            ready[client] = end
            for t, kind, data in (
                (arrived, K.REQUEST_QUEUED, {"method": "GET", "path": "/"}),
                (start, K.REQUEST_START, {"scope_type": "http"}),
                (end, K.REQUEST_END, {"status": 200}),
            ):
                events.append(Event(seq, t, kind, req, 1, 1, "event-loop", data=data))
                seq += 1
    return sorted(events, key=lambda e: (e.t, e.seq))


@pytest.fixture(scope="module")
def waves() -> Recording:
    """50 clients, 600 requests, in waves (``_waves``)."""
    return Recording(make_header(interface="asgi", server={"model": "loop"}), _waves())


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

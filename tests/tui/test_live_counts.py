"""The live header's "in flight" and "queued", and its clock (tracer.tui.live_stats).

In flight is what the summary's ``max_in_flight`` counts, in the app (``request.start`` to
its end), on every server; queued is arrived and not in the app yet. Both are counted at an
instant every event of which has reached the dashboard, and the clock is the caller's now.
"""

from __future__ import annotations

from tracer import events as K
from tracer.events import Event
from tracer.summary import summarize
from tracer.tui.live_stats import LiveStats

MS = 1_000_000


def _threads_run(workers: int, clients: int, rounds: int, work_ms: int) -> list[Event]:
    """A closed loop of ``clients`` on ``workers`` threads, each request ``work_ms`` in the
    app: every client's request arrives at 0 and again the instant its last one ended."""
    events: list[Event] = []
    seq = 0
    free = [0] * workers  # when each worker is free again
    arrivals = [0] * clients
    req = 0
    for _ in range(rounds):
        for client in range(clients):
            req += 1
            arrived = arrivals[client]
            worker = min(range(workers), key=lambda w: (max(free[w], arrived), w))
            start = max(free[worker], arrived)
            end = start + work_ms * MS
            free[worker] = end
            arrivals[client] = end
            for t, kind, data in (
                (arrived, K.REQUEST_QUEUED, {}),
                (start, K.REQUEST_START, {"scope_type": "http"}),
                (end, K.REQUEST_END, {"status": 200}),
            ):
                events.append(Event(seq, t, kind, req, 1, worker, f"worker-{worker}", data=data))
                seq += 1
    return sorted(events, key=lambda e: (e.t, e.seq))


def _fed_late(events: list[Event], now: int, lag: int) -> list[Event]:
    """What has reached the dashboard by ``now``: the arrivals (recorded in this process) at
    once, the app's own events ``lag`` later (a child process sends them every so often)."""
    return [e for e in events if e.end <= (now if e.kind == K.REQUEST_QUEUED else now - lag)]


def test_in_flight_is_the_summarys_and_the_rest_is_queued() -> None:
    """4 worker threads, 20 clients: at any instant 4 requests are in the app and 16 wait, and
    the most in flight over the run is the summary's ``max_in_flight`` (4), not the 20
    clients outstanding."""
    events = _threads_run(workers=4, clients=20, rounds=3, work_ms=10)
    stats = LiveStats()
    seen = []
    for now in range(5 * MS, 55 * MS, 10 * MS):  # between the ends, every 10 ms
        stats.feed([e for e in events if now - 10 * MS < e.end <= now], now=now)
        snap = stats.snapshot(now)
        seen.append((snap.in_flight, snap.queued))
    assert seen == [(4, 16)] * 5
    assert summarize(events)["max_in_flight"] == 4


def test_events_that_come_late_are_waited_for_not_counted_as_gaps() -> None:
    """The app's events reach the dashboard 60 ms after they happened (as ``--server
    processes`` children send theirs), the arrivals at once: counted at now, a request whose
    end has not come yet would still be in the app while its client's next one already waits
    (up to 28 queued of 20 clients). Counted at the instant every event has come (now less
    the longest delay seen), it reads 4 in flight and 16 queued throughout."""
    events = _threads_run(workers=4, clients=20, rounds=6, work_ms=25)
    stats = LiveStats()
    fed: set[int] = set()
    seen = []
    for now in range(100 * MS, 700 * MS, 40 * MS):
        batch = [e for e in _fed_late(events, now, 60 * MS) if e.seq not in fed]
        fed.update(e.seq for e in batch)
        stats.feed(batch, now=now)
        snap = stats.snapshot(now)
        assert snap.counted_at <= now - 60 * MS  # never counted where events may be missing
        seen.append((snap.in_flight, snap.queued))
    assert set(seen) == {(4, 16)}


def test_the_clock_is_now_not_the_latest_event() -> None:
    """With 4 s responses, nothing is recorded for 4 s after the sends: the elapsed time and
    the rps chart's last bucket follow the ``now`` given, not the last event (10 ms)."""
    stats = LiveStats()
    sends = [Event(i, 10 * MS, K.REQUEST_QUEUED, i + 1) for i in range(4)]
    stats.feed(sends, now=20 * MS)
    assert stats.snapshot(3_000 * MS).elapsed_ns == 3_000 * MS
    assert len(stats.rps_series(100, now=3_000 * MS)) == 30  # 0-3 s; the 31st is going on
    assert stats.snapshot().elapsed_ns == 10 * MS  # no clock given: the latest event's


def test_an_error_recorded_after_its_requests_end_is_counted_as_the_summary_counts_it() -> None:
    """A request whose code stopped the loop got its 200, and its ``error`` came after its
    ``request.end``; another raised before its end named no error: the live header counts
    both, once each, as ``summarize`` does, fed in one batch or event by event."""

    def ev(seq: int, t: int, kind: str, req: int, data: dict[str, object]) -> Event:
        return Event(seq, t * MS, kind, req, 1, 1, "event-loop", data=data)

    events = [
        ev(0, 0, K.REQUEST_START, 1, {"scope_type": "http"}),
        ev(1, 1, K.REQUEST_END, 1, {"status": 200}),
        ev(2, 2, K.ERROR, 1, {"type": "RuntimeError"}),
        ev(3, 3, K.REQUEST_START, 2, {"scope_type": "http"}),
        ev(4, 4, K.ERROR, 2, {"type": "ValueError"}),
        ev(5, 5, K.REQUEST_END, 2, {"status": 200}),
        ev(6, 6, K.REQUEST_START, 3, {"scope_type": "http"}),
        ev(7, 7, K.REQUEST_END, 3, {"status": 200}),
    ]
    assert summarize(events)["errors"] == 2
    together = LiveStats()
    together.feed(events, now=10 * MS)
    one_by_one = LiveStats()
    for event in events:
        one_by_one.feed([event], now=event.t)
    assert together.errors == one_by_one.errors == 2
    assert together.failed == one_by_one.failed == {1, 2}

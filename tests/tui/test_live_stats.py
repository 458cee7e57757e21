"""The live dashboard's running numbers (tracer.tui.live_stats)."""

from __future__ import annotations

from tracer.recording import Recording
from tracer.summary import summarize
from tracer.tui.live_stats import RPS_BUCKET_NS, LiveStats, histogram


def test_totals_match_the_summary_of_the_whole_run(loop_rec: Recording) -> None:
    """Fed every event in batches, the figures agree with summarize() of the recording."""
    stats = LiveStats(total=8)
    events = loop_rec.events
    for i in range(0, len(events), 7):
        stats.feed(events[i : i + 7])
    snap = stats.snapshot()
    summary = summarize(loop_rec)
    assert (snap.completed, snap.total, snap.in_flight, snap.errors) == (8, 8, 0, 0)
    assert round(snap.p50_ms, 3) == summary["latency_ms"]["p50"]
    assert round(snap.p99_ms, 3) == summary["latency_ms"]["p99"]


def test_in_flight_and_errors_midway(threads_rec: Recording) -> None:
    """Halfway through, started-but-unfinished requests are in flight; a 500 counts as error."""
    stats = LiveStats()
    end_of_5 = next(e for e in threads_rec.events if e.req == 5 and e.kind == "request.end")
    stats.feed([e for e in threads_rec.events if e.t <= end_of_5.t])
    snap = stats.snapshot()
    started = {e.req for e in threads_rec.events if e.kind == "request.start" and e.t <= end_of_5.t}
    ended = {e.req for e in threads_rec.events if e.kind == "request.end" and e.t <= end_of_5.t}
    assert snap.in_flight == len(started - ended) > 0
    assert snap.errors == 1


def test_recent_keeps_only_the_newest_requests(loop_rec: Recording) -> None:
    """Only the last ``keep`` requests' events are kept for the scrolling timeline."""
    stats = LiveStats(keep=3)
    stats.feed(loop_rec.events)
    assert {e.req for e in stats.recent_events() if e.req is not None} == {6, 7, 8}


def test_rps_series_counts_completions_per_bucket(loop_rec: Recording) -> None:
    """The sparkline series of a run that has ended sums to the completions, scaled to
    per-second."""
    stats = LiveStats()
    stats.feed(loop_rec.events)
    series = stats.rps_series(ended=True)
    assert sum(series) * RPS_BUCKET_NS / 1e9 == 8


def test_histogram_covers_every_latency() -> None:
    """Bins are ordered, cover every value once, and an empty run has none."""
    values = [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 120.0]
    bins = histogram(values)
    assert sum(count for _, _, count in bins) == len(values)
    assert all(low < high for low, high, _ in bins)
    assert histogram([]) == []


def test_a_lifespan_connection_is_no_request_of_the_load() -> None:
    """The server's lifespan connection gets no lane and is not counted (as in the summary)."""
    from tracer import events as K
    from tracer.events import Event

    ms = 1_000_000
    events = [
        Event(0, 0, K.REQUEST_START, 1, data={"scope_type": "lifespan"}),
        Event(1, 1 * ms, K.ASGI_RECEIVE, 1, dur=ms, data={"type": "lifespan.startup"}),
        Event(2, 2 * ms, K.REQUEST_QUEUED, 2),
        Event(3, 3 * ms, K.REQUEST_START, 2, data={"scope_type": "http"}),
        Event(4, 5 * ms, K.REQUEST_END, 2, data={"status": 200}),
        Event(5, 9 * ms, K.REQUEST_END, 1, data={"status": None, "error": None}),
    ]
    live = LiveStats()
    live.feed(events)
    snapshot = live.snapshot()
    assert (snapshot.completed, snapshot.in_flight, snapshot.errors) == (1, 0, 0)
    assert list(live.recent) == [2]
    assert snapshot.p50_ms == summarize(events)["latency_ms"]["p50"] == 3.0


def test_rps_counts_from_the_first_request_not_from_t0() -> None:
    """A real server starts a second after t=0: the live rps leaves that second out, as the
    summary's does."""
    from tracer import events as K
    from tracer.events import Event

    s = 1_000_000_000
    events = []
    for i in range(10):
        t = s + i * s // 10
        events += [
            Event(3 * i, t, K.REQUEST_QUEUED, i + 1),
            Event(3 * i + 1, t, K.REQUEST_START, i + 1, data={"scope_type": "http"}),
            Event(3 * i + 2, t + s // 10, K.REQUEST_END, i + 1, data={"status": 200}),
        ]
    live = LiveStats()
    live.feed(events)
    assert live.snapshot().rps == summarize(events)["rps"] == 10.0


def test_the_bucket_in_progress_is_left_out_until_the_run_ends() -> None:
    """While the run goes on, the newest 100 ms has only part of its completions: drawn, it
    would read as a drop every frame. Only whole buckets are shown until the run has ended;
    then the last one is whole too."""
    from tracer import events as K
    from tracer.events import Event

    ms = 1_000_000
    stats = LiveStats()
    stats.feed([Event(i, 10 * ms * i, K.REQUEST_QUEUED, i) for i in range(1, 5)])
    assert stats.rps_series() == []  # the first 100 ms are not over
    # Two requests end in the first 100 ms, two 10 and 20 ms into the second.
    stats.feed(
        [
            Event(10 + i, (10 * i + 80 * (i > 2)) * ms, K.REQUEST_END, i, data={})
            for i in range(1, 5)
        ]
    )
    assert stats.rps_series() == [20.0]
    assert stats.rps_series(ended=True) == [20.0, 20.0]
    # Time going on (a later event) closes the second bucket.
    stats.feed([Event(20, 200 * ms, K.REQUEST_QUEUED, 5)])
    assert stats.rps_series() == [20.0, 20.0]
    assert stats.rps_series(points=1) == [20.0]

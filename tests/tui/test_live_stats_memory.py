"""The live dashboard's memory over a long run (tracer.tui.live_stats).

The dashboard keeps, for a request that is over, only what its numbers need: the request's
record packed into a row (``tracer.span_rows``, as the streaming digest packs it) and its latency
in an array of doubles. Its per-request dicts and sets let go of it once nothing later can
change what they hold, and a later event of the request unpacks its record again, so the
numbers stay those of the whole records.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator

from tracer import events as K
from tracer.events import Event
from tracer.summary import summarize
from tracer.tui.live_stats import LiveStats

MS = 1_000_000
GAP = 2_500_000
"""A request arrives every 2.5 ms (400 a second, as a long dashboard run went)."""
IN_APP = 100 * MS
"""Each is in the app 100 ms (``await asyncio.sleep(0.1)``): about 40 at a time."""
BATCH_NS = 200 * MS
"""The recorder hands the dashboard its events every 0.2 s."""


def _request(req: int) -> list[Event]:
    """One finished request as the ``loop`` model records it: queued, started, its response
    sent, ended with a 200."""
    t = req * GAP
    body = {"type": "http.response.body", "more_body": False}
    return [
        Event(0, t, K.REQUEST_QUEUED, req),
        Event(0, t + MS // 10, K.REQUEST_START, req, data={"scope_type": "http"}),
        Event(
            0,
            t + IN_APP,
            K.ASGI_SEND,
            req,
            dur=0,
            data={"type": "http.response.start", "status": 200},
        ),
        Event(0, t + IN_APP, K.ASGI_SEND, req, dur=0, data=body),
        Event(0, t + IN_APP, K.REQUEST_END, req, data={"status": 200}),
    ]


def _batches(first: int, last: int) -> Iterator[tuple[list[Event], int]]:
    """The events of requests ``first`` to ``last`` in the batches the recorder would hand
    over, each with the recording's clock when it is fed (the end of its 0.2 s)."""
    per_batch = BATCH_NS // GAP
    for start in range(first, last + 1, per_batch):
        reqs = range(start, min(last, start + per_batch - 1) + 1)
        yield [event for req in reqs for event in _request(req)], (reqs[-1] + 1) * GAP + IN_APP


def _feed(stats: LiveStats, first: int, last: int) -> None:
    """Feed requests ``first`` to ``last`` and draw a frame after each batch, as the
    dashboard's poll does."""
    for batch, now in _batches(first, last):
        stats.feed(batch, now=now)
        stats.snapshot(now)
        stats.latency_histogram()


def _held(stats: LiveStats) -> int:
    """The bytes Python holds now (``stats`` kept alive until after the count)."""
    gc.collect()
    current, _ = tracemalloc.get_traced_memory()
    assert stats.latest >= 0
    return current


def test_a_finished_request_costs_the_dashboard_few_bytes_and_the_cost_stays_flat() -> None:
    """20,000 finished requests fed as a run feeds them, with a frame after each batch: from
    10,000 to 20,000 the dashboard's memory grows by at most 150 bytes a request (it grew by
    about 700 when it kept a ``RequestSpan`` and an entry in several dicts and sets for each,
    and a list of floats), and each 5,000 more cost about what the previous 5,000 did."""
    stats = LiveStats(total=20_000)
    tracemalloc.start()
    try:
        _feed(stats, 1, 10_000)
        at_10k = _held(stats)
        _feed(stats, 10_001, 15_000)
        at_15k = _held(stats)
        _feed(stats, 15_001, 20_000)
        at_20k = _held(stats)
    finally:
        tracemalloc.stop()
    snap = stats.snapshot()
    assert (snap.completed, snap.errors) == (20_000, 0)
    per_request = (at_20k - at_10k) / 10_000
    assert per_request <= 150, f"{per_request:.0f} bytes a request"
    # Flat: the second 5,000 cost no more than the first 5,000 (room for a dict's resize).
    assert at_20k - at_15k <= (at_15k - at_10k) * 1.5 + 64_000, (at_10k, at_15k, at_20k)
    # Of the per-request dicts and sets, only the last seconds' requests are left.
    assert len(stats.spans) + len(stats.arrived) + len(stats.ended) < 3_000


def test_the_numbers_stay_those_of_the_whole_run() -> None:
    """Fed a long run with frames between batches, the dashboard's figures are those the
    summary gives for the same events."""
    stats = LiveStats()
    events: list[Event] = []
    for batch, now in _batches(1, 3_000):
        events.extend(batch)
        stats.feed(batch, now=now)
        stats.snapshot(now)
    summary = summarize(events)
    snap = stats.snapshot()
    assert snap.completed == summary["completed"] == 3_000
    assert round(snap.p50_ms, 3) == summary["latency_ms"]["p50"]
    assert round(snap.p99_ms, 3) == summary["latency_ms"]["p99"]
    assert sum(count for _, _, count in stats.latency_histogram()) == 3_000


def test_late_events_of_a_settled_request_still_count() -> None:
    """Events that come seconds after a request is over, once its record is packed (a
    server's events merged after the client's answer, an error recorded after the end, an
    arrival of a process merged out of order), count as they did while it was whole: the
    error flips it to failed, an earlier arrival seen late neither counts it again nor puts it
    back in flight or in the recent lanes."""
    stats = LiveStats(keep=5)
    _feed(stats, 1, 200)
    assert stats.snapshot().errors == 0
    later = 200 * GAP + 10_000 * MS
    stats.feed(
        [
            Event(0, 3 * GAP + IN_APP + MS, K.ERROR, 3, data={"type": "RuntimeError"}),
            Event(0, 4 * GAP - MS, K.REQUEST_QUEUED, 4),
            Event(0, 5 * GAP + MS, K.SCHED_STEP, 5, dur=MS),
        ],
        now=later,
    )
    snap = stats.snapshot(later)
    assert (snap.completed, snap.errors, snap.in_flight, snap.queued) == (200, 1, 0, 0)
    assert {event.req for event in stats.recent_events()} <= set(range(196, 201))
    # The error is the request's for good: it is still counted once its row packs again.
    stats.snapshot(later + 5_000 * MS)
    assert stats.snapshot().errors == 1
    assert stats.spans == {}


def test_a_client_response_long_after_the_server_end_ends_the_request_there() -> None:
    """A request a network client sent is over when the client has the answer, however late
    the server's side of it came: counted once, with the client's latency."""
    stats = LiveStats()
    stats.feed([Event(0, 0, K.CLIENT_SEND, 1)], now=0)
    stats.feed(
        [
            Event(0, 1 * MS, K.REQUEST_START, 1, data={"scope_type": "http"}),
            Event(0, 2 * MS, K.REQUEST_END, 1, data={"status": 200}),
        ],
        now=3 * MS,
    )
    for now in range(0, 5_000 * MS, 200 * MS):
        stats.snapshot(now)
    assert stats.snapshot().completed == 0
    stats.feed([Event(0, 5_000 * MS, K.CLIENT_RESPONSE, 1, data={"status": 503})], now=5_000 * MS)
    for now in range(5_000 * MS, 10_000 * MS, 200 * MS):
        stats.snapshot(now)
    snap = stats.snapshot()
    assert (snap.completed, snap.errors, snap.p50_ms) == (1, 1, 5_000.0)

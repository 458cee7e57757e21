"""summarize(): the numbers of DESIGN.md from events alone."""

from __future__ import annotations

from tracer import events as K
from tracer.events import Event
from tracer.summary import percentile, summarize

MS = 1_000_000


def _request(
    seq: int,
    req: int,
    queued: int,
    start: int,
    end: int,
    status: int = 200,
    error: str | None = None,
) -> list[Event]:
    return [
        Event(seq, queued * MS, K.REQUEST_QUEUED, req),
        Event(seq + 1, start * MS, K.REQUEST_START, req, data={"scope_type": "http"}),
        Event(seq + 2, end * MS, K.REQUEST_END, req, data={"status": status, "error": error}),
    ]


def test_percentile_interpolates() -> None:
    """Linear interpolation between closest ranks, as numpy's default."""
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5], 99) == 5
    assert percentile([], 50) == 0.0


def test_summary_of_three_requests() -> None:
    """Latency from queued to end, queueing from queued to start, overlap and statuses."""
    evs = (
        _request(0, 1, 0, 0, 100)
        + _request(10, 2, 0, 50, 150)
        + _request(20, 3, 0, 100, 200, status=500, error="ValueError")
        + [Event(30, 120 * MS, K.LOOP_BLOCKED, 3, dur=30 * MS), Event(31, 5, K.VIOLATION, 2)]
        + [Event(40, 0, K.REQUEST_START, 9, data={"scope_type": "lifespan"})]
    )
    s = summarize(evs)
    assert s["requests"] == 3 and s["completed"] == 3 and s["errors"] == 1
    assert s["latency_ms"]["max"] == 200.0 and s["latency_ms"]["p50"] == 150.0
    assert s["queue_ms"]["max"] == 100.0 and s["queue_ms"]["mean"] == 50.0
    assert s["status"] == {"200": 2, "500": 1}
    assert s["max_in_flight"] == 2  # 1 ends at 100 exactly when 3 starts
    assert s["loop_blocked_ms"] == 30.0 and s["violations"] == 1
    assert s["wall_s"] == 0.2 and s["rps"] == 15.0


def test_wall_time_leaves_out_the_lifespan_connection() -> None:
    """Lifespan startup/shutdown around the load does not stretch wall_s or dilute rps."""
    evs = (
        [
            Event(0, 0, K.REQUEST_START, 1, data={"scope_type": "lifespan"}),
            Event(1, 1 * MS, K.ASGI_SEND, 1, data={"type": "lifespan.startup.complete"}),
        ]
        + _request(10, 2, 100, 100, 200)
        + [
            Event(20, 900 * MS, K.REQUEST_END, 1, data={"status": None, "error": None}),
        ]
    )
    s = summarize(evs)
    assert s["requests"] == 1 and s["wall_s"] == 0.1 and s["rps"] == 10.0

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


def _client(seq: int, req: int, sent: int, first: int, last: int, **data: object) -> list[Event]:
    """A network client's side of one request: sent, then the response's first..last byte."""
    response = {"status": 200, **data}
    return [
        Event(seq, sent * MS, K.CLIENT_SEND, req, data={"method": "GET", "path": "/"}),
        Event(seq + 1, sent * MS, K.REQUEST_QUEUED, req, data={"method": "GET", "path": "/"}),
        Event(seq + 2, first * MS, K.CLIENT_RESPONSE, req, dur=(last - first) * MS, data=response),
    ]


def _server(seq: int, req: int, start: int, end: int, **data: object) -> list[Event]:
    return [
        Event(seq, start * MS, K.REQUEST_START, req, data={"scope_type": "http"}),
        Event(seq + 1, end * MS, K.REQUEST_END, req, data={"status": 200, "error": None, **data}),
    ]


# A real server run: (1) served, the response reaching the client 40 ms after the app returned;
# (2) turned away by the server without the app (503); (3) the app raised, the client got a
# 500; (4) the client gave up (no response); the server's end of (4) was never recorded.
REAL_SERVER_RUN = sorted(
    _client(0, 1, 0, 45, 50)
    + _server(10, 1, 2, 5)
    + _client(20, 2, 10, 11, 11, status=503)
    + _client(30, 3, 20, 30, 31, status=500)
    + _server(40, 3, 22, 29, status=None, error="ZeroDivisionError")
    + _client(50, 4, 24, 124, 124, status=None, error="TimeoutError")
    + _server(60, 4, 25, 25)[:1],
    key=lambda e: (e.t, e.seq),
)


def test_with_a_network_client_its_view_is_the_requests_outcome() -> None:
    """Latency runs to the client's last byte, statuses are what the client got (a 503 the
    app never saw included), errors count raised, failed and 5xx requests, and in flight still
    means in the app."""
    summary = summarize(REAL_SERVER_RUN)
    assert summary["requests"] == summary["completed"] == 4
    assert summary["status"] == {"200": 1, "500": 1, "503": 1}
    assert summary["errors"] == 3
    assert summary["latency_ms"]["max"] == 100.0  # request 4: sent at 24, given up at 124
    assert summary["latency_ms"]["mean"] == round((50 + 1 + 11 + 100) / 4, 3)
    assert summary["queue_ms"]["max"] == 2.0  # sent at 20, the app started it at 22
    assert summary["max_in_flight"] == 2  # request 4 (never ended in the app) beside request 3


def test_the_streaming_digest_and_the_live_header_agree_with_summarize() -> None:
    """``trace summary``'s digest and the live dashboard's numbers use the same rules."""
    from tracer.digest import Digest
    from tracer.tui.live_stats import LiveStats

    digest = Digest()
    digest.feed(reversed(REAL_SERVER_RUN))  # any order
    assert digest.summary() == summarize(REAL_SERVER_RUN)
    assert digest.details().timeouts == 1
    live = LiveStats()
    live.feed(REAL_SERVER_RUN)
    snapshot = live.snapshot()
    assert (snapshot.completed, snapshot.errors) == (4, 3)
    assert snapshot.p50_ms == summarize(REAL_SERVER_RUN)["latency_ms"]["p50"]


def test_queueing_ends_when_the_client_gave_up() -> None:
    """A request the client gave up on while it was queued waited until then, not until the app
    got to it later (queue time never exceeds latency); one the app never started counts too."""
    run = sorted(
        _client(0, 1, 0, 10, 10, status=None, error="TimeoutError")
        + _server(10, 1, 30, 31)  # the app started it 20 ms after the client gave up
        + _client(20, 2, 0, 12, 12, status=None, error="TimeoutError"),  # never started
        key=lambda e: (e.t, e.seq),
    )
    summary = summarize(run)
    assert summary["latency_ms"]["max"] == 12.0
    assert summary["queue_ms"]["max"] == 12.0
    assert summary["queue_ms"]["p50"] == 11.0  # 10 and 12: both waits counted
    from tracer.digest import Digest

    digest = Digest()
    digest.feed(run)
    assert digest.summary() == summary
    assert digest.details().queue_ms["max"] == 12.0


def test_summarize_takes_the_path_of_a_recording(tmp_path: object) -> None:
    """``summarize("run.jsonl")`` reads the file (a missing one is the loader's TracerError)."""
    from pathlib import Path

    import pytest

    from tracer.errors import RecordingNotFound
    from tracer.recorder import Recorder

    folder = Path(str(tmp_path))
    recorder = Recorder()
    recorder.extend(REAL_SERVER_RUN)
    path = recorder.save(folder / "run.jsonl")
    assert summarize(path) == summarize(Path(path)) == summarize(REAL_SERVER_RUN)
    with pytest.raises(RecordingNotFound):
        summarize(folder / "missing.jsonl")


def test_a_client_timeout_counts_even_when_the_app_raised_first() -> None:
    """The app raised (SystemExit) and the server never answered: the request is an error,
    and a timeout in the report's count, since the client waited in vain."""
    from tracer.digest import Digest

    run = sorted(
        _client(0, 1, 0, 3000, 3000, status=None, error="TimeoutError")
        + _server(10, 1, 1, 2, status=None, error="SystemExit"),
        key=lambda e: (e.t, e.seq),
    )
    digest = Digest()
    digest.feed(run)
    assert digest.summary()["errors"] == 1
    assert digest.details().timeouts == 1


def test_the_reports_errors_by_kind_add_up_to_the_error_count() -> None:
    """The report's errors table names every error the summary counts, not only the app's
    exceptions: the 503 the app never saw, the client's timeout."""
    from tracer.digest import Digest

    digest = Digest()
    digest.feed(REAL_SERVER_RUN)
    errors = digest.details().errors
    assert errors == {"HTTP 503": 1, "ZeroDivisionError": 1, "TimeoutError": 1}
    assert sum(errors.values()) == digest.summary()["errors"]


def test_an_asgi_response_is_over_with_its_last_body_message() -> None:
    """In process (no network client), the response ends with the last body message: work
    the app does after it (BackgroundTasks) is not latency; an exception raised there is
    still an error. Summary, streaming digest and live header agree."""
    from tracer.digest import Digest
    from tracer.tui.live_stats import LiveStats

    body = {"type": "http.response.body", "bytes": 2, "more_body": False}
    run = [
        Event(0, 0, K.REQUEST_QUEUED, 1),
        Event(1, 1 * MS, K.REQUEST_START, 1, data={"scope_type": "http"}),
        Event(
            2, 2 * MS, K.ASGI_SEND, 1, dur=0, data={"type": "http.response.start", "status": 200}
        ),
        Event(3, 5 * MS, K.ASGI_SEND, 1, dur=1 * MS, data=body),
        Event(4, 300 * MS, K.REQUEST_END, 1, data={"status": 200, "error": "ValueError"}),
    ]
    summary = summarize(run)
    assert summary["latency_ms"]["max"] == 6.0 and summary["errors"] == 1
    assert summary["status"] == {"200": 1}
    digest = Digest()
    digest.feed(reversed(run))
    assert digest.summary() == summary
    live = LiveStats()
    live.feed(run)
    snapshot = live.snapshot()
    assert (snapshot.completed, snapshot.errors, snapshot.p50_ms) == (1, 1, 6.0)

"""An open loop's throughput (``--rate``) is taken over the time its arrivals were offered
in, not only over the span of its requests, which starts one random gap after the load began:
a run reports more than its rate only when more requests arrived than the rate offers in its
``-z`` duration (and it completed them)."""

from __future__ import annotations

from typing import Any

from tracer import events as K
from tracer.events import Event
from tracer.recording import Recording, make_header
from tracer.summary import summarize

MS = 1_000_000


def _run(load: dict[str, Any], arrivals: list[int], latency_ms: int = 1) -> Recording:
    """Requests arriving at ``arrivals`` (ms), each in the app for ``latency_ms``."""
    events: list[Event] = []
    for req, at in enumerate(arrivals, start=1):
        seq = len(events)
        events += [
            Event(seq, at * MS, K.REQUEST_QUEUED, req),
            Event(seq + 1, at * MS, K.REQUEST_START, req, data={"scope_type": "http"}),
            Event(seq + 2, (at + latency_ms) * MS, K.REQUEST_END, req, data={"status": 200}),
        ]
    return Recording(header=make_header(load=load), events=events)


def test_n_requests_at_a_rate_report_no_more_than_that_rate() -> None:
    """-n 20 --rate 50: twenty arrivals drawn into 285 ms (19 gaps from the first) said 70.2
    requests/s; offered at 50 a second, twenty take 400 ms."""
    recording = _run({"rate": 50.0, "requests": 20}, [15 * i for i in range(20)])
    summary = summarize(recording)
    assert summary["wall_s"] == 0.286  # the span of the requests, as before
    assert summary["rps"] == 50.0


def test_a_duration_run_that_got_more_arrivals_reports_them() -> None:
    """--rate 100 -z 1s drew 113 arrivals into 0.96 s: 113 requests/s over the second it ran
    (it said 117.7): more than the rate, because more than 100 really arrived and completed."""
    recording = _run({"rate": 100.0, "duration_s": 1.0}, [round(i * 959 / 112) for i in range(113)])
    summary = summarize(recording)
    assert summary["completed"] == 113 and summary["wall_s"] == 0.96
    assert summary["rps"] == 113.0


def test_a_duration_run_with_fewer_arrivals_stays_under_its_rate() -> None:
    """87 arrivals in a 1 s run at 100/s: 87 a second take 0.87 s of offering; over the
    span of 0.9 s that is under 100 (never above the rate)."""
    recording = _run({"rate": 100.0, "duration_s": 1.0}, [round(i * 899 / 86) for i in range(87)])
    summary = summarize(recording)
    assert summary["rps"] == 96.7  # 87 / 0.9 s


def test_a_stopped_open_loop_counts_the_arrivals_it_made() -> None:
    """-n 1000 --rate 50 stopped after twenty arrivals: twenty are offered in 400 ms, not
    the 20 s the whole run would have taken."""
    recording = _run({"rate": 50.0, "requests": 1000}, [15 * i for i in range(20)])
    assert summarize(recording)["rps"] == 50.0


def test_a_slow_server_is_measured_over_its_own_span() -> None:
    """When the requests take longer than the offering, their span is the time: 20 arrivals
    offered in 400 ms that ended by 2 s report 10 a second."""
    recording = _run({"rate": 50.0, "requests": 20}, [15 * i for i in range(20)], 1715)
    summary = summarize(recording)
    assert summary["wall_s"] == 2.0 and summary["rps"] == 10.0


def test_a_closed_loop_is_unchanged() -> None:
    """-c clients have no offered rate: completed over the span, as before."""
    recording = _run({"concurrency": 4, "requests": 20}, [15 * i for i in range(20)])
    assert summarize(recording)["rps"] == 69.9  # 20 / 0.286 s
    assert summarize(recording.events)["rps"] == 69.9  # bare events: no header, no load


def test_the_offered_time_of_odd_loads() -> None:
    """No load, no rate, a rate that is no positive number: no offered time (0)."""
    from tracer.summary import offered_s

    assert offered_s(None, 10) == 0.0
    assert offered_s({"concurrency": 5}, 10) == 0.0
    for rate in (0, -1, True, "50", float("inf"), float("nan"), None):
        assert offered_s({"rate": rate}, 10) == 0.0, rate
    assert offered_s({"rate": 50, "requests": 20}, 20) == 0.4
    assert offered_s({"rate": 100, "duration_s": 1}, 113) == 1.0
    assert offered_s({"rate": 100, "duration_s": 1}, 87) == 0.87


def test_every_reader_of_a_recording_gives_the_same_throughput(tmp_path: Any) -> None:
    """``trace summary`` (which streams the file through ``tracer.digest``), the replay's
    summary panel and ``tracer.summarize`` agree on an open loop's rps and on zero-time
    requests in flight (the digest read neither the header's load nor the event order)."""
    from tracer.digest import digest_file
    from tracer.recorder import Recorder
    from tracer.tui.model import build_model

    recording = _run({"rate": 50.0, "requests": 20}, [15 * i for i in range(20)], latency_ms=0)
    path = tmp_path / "open.jsonl"
    recorder = Recorder(path, start_ns=0, clock=lambda: 0, load=recording.header["load"])
    for event in recording.events:
        recorder.emit(event.kind, event.req, event.data, t=event.t, dur=event.dur)
    recorder.close()
    expected = summarize(path)
    assert (expected["rps"], expected["max_in_flight"]) == (50.0, 1)
    _, digest = digest_file(path)
    assert digest.summary() == expected
    assert build_model(recording).summary == summarize(recording) == expected


def test_a_request_turned_away_by_the_server_did_not_queue_for_the_app() -> None:
    """uvicorn's 503 past --limit-concurrency: the request never reached the app, so its wait
    for the answer is not queueing (queue_ms was all 503 turnaround); one that was served
    after waiting, and one whose client gave up while it waited, still count."""
    events = [
        Event(0, 0, K.REQUEST_QUEUED, 1),
        Event(1, 9 * MS, K.CLIENT_RESPONSE, 1, data={"status": 503, "ttfb_ns": 9 * MS}),
        Event(2, 0, K.REQUEST_QUEUED, 2),
        Event(3, 2 * MS, K.REQUEST_START, 2, data={"scope_type": "http"}),
        Event(4, 5 * MS, K.REQUEST_END, 2, data={"status": 200}),
        Event(5, 5 * MS, K.CLIENT_RESPONSE, 2, data={"status": 200}),
        Event(6, 0, K.REQUEST_QUEUED, 3),
        Event(7, 4 * MS, K.CLIENT_RESPONSE, 3, data={"error": "timeout", "status": None}),
    ]
    summary = summarize(Recording(header=make_header(), events=events))
    assert summary["status"] == {"503": 1, "200": 1}
    assert summary["queue_ms"]["max"] == 4.0  # the client that gave up waiting
    assert summary["queue_ms"]["mean"] == 3.0  # (2 + 4) / 2: the 503 is not counted


def test_work_after_the_responses_does_not_dilute_the_throughput() -> None:
    """An app that works a second after each response (BackgroundTasks): 1,000 requests done
    in 0.17 s read 819 a second over the wall time, which the background work stretches. The
    rate is over the time the responses took; wall_s still spans every event."""
    events: list[Event] = []
    for req in range(1, 11):
        at = (req - 1) * MS
        seq = len(events)
        events += [
            Event(seq, at, K.REQUEST_QUEUED, req),
            Event(seq + 1, at, K.REQUEST_START, req, data={"scope_type": "http"}),
            Event(seq + 2, at + MS, K.ASGI_SEND, req, data={"type": "http.response.start"}),
            Event(seq + 3, at + MS, K.ASGI_SEND, req, data={"type": "http.response.body"}),
            Event(seq + 4, at + 1000 * MS, K.REQUEST_END, req, data={"status": 200}),
        ]
    summary = summarize(Recording(header=make_header(), events=events))
    assert summary["wall_s"] == 1.009
    assert summary["latency_ms"]["max"] == 1.0
    assert summary["rps"] == 1000.0  # 10 requests, the last response over at 10 ms

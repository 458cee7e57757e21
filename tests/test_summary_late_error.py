"""An ``error`` event of a request is that request's error, wherever it comes among the
request's events: one recorded after its ``request.end`` (the ``loop`` model's "Event loop
stopped before Future completed." on the request whose code stopped the loop, which had its
200 already) counts in the summary's ``errors`` as one raised before the end does."""

from __future__ import annotations

from pathlib import Path

import pytest
from stopping_apps import STOPS_LOOP_ON_3RD

from tracer import events as K
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.run import RunConfig, run
from tracer.servers import CANCELLED
from tracer.summary import request_spans, summarize

pytestmark = pytest.mark.timeout(60)

MS = 1_000_000


def test_the_loop_stopped_by_a_request_is_its_error_in_the_summary(tmp_path: Path) -> None:
    """A recording of ``--server loop`` whose 3rd request stops the loop: that request got its
    200 and ended, then the error naming the stop was recorded on it. The summary of the
    recording file counts it: ``errors`` 1, the statuses still 200."""
    (tmp_path / "stops_loop.py").write_text(STOPS_LOOP_ON_3RD)
    recorder = Recorder()
    config = RunConfig(
        app="stops_loop:app",
        app_dir=str(tmp_path),
        server="loop",
        concurrency=1,
        requests=10,
        timeout=2.0,
    )
    result = run(config, recorder)
    assert result.server_exit == 1
    path = recorder.save(tmp_path / "stopped.jsonl")
    events = [e for e in recorder.recording().events if e.req is not None]
    [error] = [e for e in events if e.kind == K.ERROR]
    [end] = [e for e in events if e.kind == K.REQUEST_END and e.req == error.req]
    assert end.data["status"] == 200 and end.data["error"] is None
    assert end.seq < error.seq  # the case: the error comes after the request's end
    spans = request_spans(events)
    # The requests in flight at the stop were cancelled: errors too, each once.
    cancelled = [req for req, span in spans.items() if span.error == CANCELLED]
    assert error.req not in cancelled
    summary = summarize(path)
    assert summary["errors"] == 1 + len(cancelled)
    assert summary["status"] == {"200": 3}
    assert spans[error.req].failed and spans[error.req].outcome_error == "RuntimeError"


def _request(seq: int, req: int, start: int, end: int, **end_data: object) -> list[Event]:
    data = {"status": 200, "error": None, **end_data}
    return [
        Event(seq, start * MS, K.REQUEST_START, req, data={"scope_type": "http"}),
        Event(seq + 1, end * MS, K.REQUEST_END, req, data=data),
    ]


def _error(seq: int, req: int, t: int, kind: str = "RuntimeError") -> Event:
    return Event(seq, t * MS, K.ERROR, req, data={"type": kind, "message": "", "where": None})


def test_each_request_with_an_error_counts_once() -> None:
    """Four requests: a clean one; one with an error after its end; one that raised before
    its end, which names the exception too (one error, not two); one whose error came before
    an end that names none. Errors of the lifespan connection are not a request's."""
    lifespan = [
        Event(0, 0, K.REQUEST_START, 99, data={"scope_type": "lifespan"}),
        _error(1, 99, 1, "ValueError"),
        Event(2, 2 * MS, K.REQUEST_END, 99, data={"status": None, "error": "ValueError"}),
    ]
    run_events = sorted(
        lifespan
        + _request(10, 1, 10, 11)
        + _request(20, 2, 12, 13)
        + [_error(22, 2, 14)]
        + _request(30, 3, 15, 17, status=500, error="KeyError")
        + [_error(29, 3, 16, "KeyError")]
        + _request(40, 4, 18, 20)
        + [_error(39, 4, 19, "SystemExit")],
        key=lambda e: (e.t, e.seq),
    )
    summary = summarize(run_events)
    assert summary["requests"] == summary["completed"] == 4
    assert summary["errors"] == 3
    assert summary["status"] == {"200": 3, "500": 1}
    spans = request_spans(run_events)
    assert [spans[req].outcome_error for req in (1, 2, 3, 4)] == [
        None,
        "RuntimeError",
        "KeyError",
        "SystemExit",
    ]


def test_trace_summarys_digest_counts_a_late_error_as_summarize_does() -> None:
    """The streaming digest behind ``trace run``'s report and ``trace summary`` counts an
    error recorded after its request's end as ``summarize`` does, in whatever order it is fed."""
    from tracer.digest import Digest

    run_events = sorted(
        _request(10, 1, 10, 11) + _request(20, 2, 12, 13) + [_error(22, 2, 14)],
        key=lambda e: (e.t, e.seq),
    )
    digest = Digest()
    digest.feed(reversed(run_events))
    assert digest.summary() == summarize(run_events)
    assert digest.summary()["errors"] == 1

"""A request with two ``request.end`` events (its client timed out, then its app returned):
the request ends at the first, and what its app did after it is ``abandoned work``, in the
OTLP export (over the wire, after the fact and live) and in Perfetto."""

from __future__ import annotations

from typing import Any

import pytest

import tracer
from tracer import events as K
from tracer.cli import main
from tracer.events import Event
from tracer.export.perfetto import to_chrome_trace
from tracer.otel.testing import OtlpHttpReceiver

pytestmark = pytest.mark.timeout(60)

APP = "sample_apps.io_bound:wsgi_app"
RUN = ["-n", "1", "-c", "1", "--server", "threads", "--path", "/?ms=300", "--timeout", "100ms"]
"""One request whose app sleeps 300 ms on a worker thread, for a client that waits 100 ms."""

LATE_CALLS = ["wsgi.start_response", "wsgi.body", "wsgi.close"]


def _ends(recording: tracer.Recording) -> tuple[Event, Event]:
    """The request's two ends: the model's for its client (timeout), then the app's."""
    first, app = [e for e in recording.events if e.kind == K.REQUEST_END]
    assert (first.data["error"], app.data["status"]) == ("timeout", 200)
    return first, app


@pytest.fixture(scope="module")
def timed_out(tmp_path_factory: Any) -> str:
    """A real run of the threads model in which the client gave up before the app returned."""
    record = str(tmp_path_factory.mktemp("abandoned") / "run.jsonl")
    main(["run", APP, *RUN, "--json", "--record", record])
    _ends(tracer.load(record))
    return record


def _attrs(span: Any) -> dict[str, Any]:
    return {a.key: getattr(a.value, a.value.WhichOneof("value")) for a in span.attributes}


def _check_spans(spans: list[Any], base: int, first: Event, app: Event) -> Any:
    """The request span ends at the first end; the abandoned work is its child from there to
    the app's end. Returns the abandoned work's span."""
    (request,) = [s for s in spans if s.kind == s.SPAN_KIND_SERVER]
    (abandoned,) = [s for s in spans if s.name == "abandoned work"]
    assert request.end_time_unix_nano == base + first.end
    assert request.status.code == request.status.STATUS_CODE_ERROR
    assert abandoned.kind == abandoned.SPAN_KIND_INTERNAL
    assert (abandoned.trace_id, abandoned.parent_span_id) == (request.trace_id, request.span_id)
    assert abandoned.start_time_unix_nano == request.end_time_unix_nano
    assert abandoned.end_time_unix_nano == base + app.end
    assert abandoned.status.code == abandoned.status.STATUS_CODE_UNSET
    attrs = _attrs(abandoned)
    assert attrs["tracer.ended_by"] == "timeout"
    assert attrs["tracer.app_status_code"] == 200
    assert attrs["tracer.bytes_out"] == 5
    return abandoned


def test_export_keeps_the_apps_late_calls_as_abandoned_work(
    timed_out: str, monkeypatch: Any
) -> None:
    """``--to otlp``: the calls the app made after the timeout are events of the abandoned
    work (they were dropped, and the request span was all there was)."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    recording = tracer.load(timed_out)
    first, app = _ends(recording)
    with OtlpHttpReceiver() as receiver:
        assert (
            main(["export", timed_out, "--to", "otlp", "--otlp-endpoint", receiver.endpoint]) == 0
        )
        spans = receiver.spans()
    abandoned = _check_spans(spans, recording.header["clock"]["unix_ns"], first, app)
    assert [e.name for e in abandoned.events] == LATE_CALLS
    assert all(e.time_unix_nano >= abandoned.start_time_unix_nano for e in abandoned.events)


def test_detail_spans_makes_the_late_calls_children_of_the_abandoned_work(
    timed_out: str, monkeypatch: Any
) -> None:
    """``--otel-detail spans``: each late call is a child span of the abandoned work."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    recording = tracer.load(timed_out)
    first, app = _ends(recording)
    with OtlpHttpReceiver() as receiver:
        argv = ["export", timed_out, "--to", "otlp", "--otel-detail", "spans"]
        assert main([*argv, "--otlp-endpoint", receiver.endpoint]) == 0
        spans = receiver.spans()
    abandoned = _check_spans(spans, recording.header["clock"]["unix_ns"], first, app)
    late = sorted(
        (s for s in spans if s.parent_span_id == abandoned.span_id),
        key=lambda s: s.start_time_unix_nano,
    )
    assert [s.name for s in late] == LATE_CALLS


def test_a_live_run_sends_the_abandoned_work_when_the_app_returns(
    tmp_path: Any, monkeypatch: Any
) -> None:
    """``trace run --otlp``: the request span at the timeout, then the abandoned work."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    record = str(tmp_path / "run.jsonl")
    with OtlpHttpReceiver() as receiver:
        main(["run", APP, *RUN, "--json", "--record", record, "--otlp-endpoint", receiver.endpoint])
        spans = receiver.spans()
    recording = tracer.load(record)
    first, app = _ends(recording)
    abandoned = _check_spans(spans, recording.header["clock"]["unix_ns"], first, app)
    assert [e.name for e in abandoned.events] == LATE_CALLS


def test_perfetto_ends_the_request_at_its_first_end_and_labels_the_late_work(
    timed_out: str,
) -> None:
    """The request's async lane: its lifetime up to the timeout, then an ``abandoned work``
    slice up to the app's end holding the app's late calls (they were drawn as slices of
    the request after its end)."""
    recording = tracer.load(timed_out)
    first, app = _ends(recording)
    lane = [
        (e["ph"], e["name"], e["ts"])
        for e in to_chrome_trace(recording)["traceEvents"]
        if e.get("cat") == "request" and e["ph"] in "be"
    ]
    names = [(ph, name) for ph, name, _ in lane]
    assert names == [
        ("b", "GET /"),
        ("b", "queued"),
        ("e", "queued"),
        ("e", "GET /"),
        ("b", "abandoned work"),
        ("b", "wsgi.body"),
        ("e", "wsgi.body"),
        ("b", "wsgi.close"),
        ("e", "wsgi.close"),
        ("e", "abandoned work"),
    ]
    times = {(ph, name): ts for ph, name, ts in lane}
    assert times[("e", "GET /")] == times[("b", "abandoned work")] == first.end / 1000
    assert times[("e", "abandoned work")] == app.end / 1000

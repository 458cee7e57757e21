"""After-the-fact OTLP export: over the wire with original times, OTLP JSON, console."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from export_recordings import UNIX_NS, two_requests

import tracer
from tracer import events as K
from tracer.errors import TracerError
from tracer.export import ExportOptions
from tracer.export.otlp import export_console, export_otlp, export_otlp_json, recording_spans
from tracer.otel.testing import OtlpGrpcReceiver, OtlpHttpReceiver

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def recording(tmp_path: Any) -> tracer.Recording:
    return tracer.load(two_requests(tmp_path / "run.jsonl"))


def _check_wire(spans: list[Any]) -> None:
    by_name = {span.name: span for span in spans}
    assert set(by_name) == {"GET /items", "GET /fail"}
    items = by_name["GET /items"]
    assert (items.start_time_unix_nano, items.end_time_unix_nano) == (
        UNIX_NS + 1_000,
        UNIX_NS + 2_000,
    )
    assert [e.time_unix_nano - UNIX_NS for e in items.events] == [1_100, 1_200]
    fail = by_name["GET /fail"]
    assert fail.status.code == fail.status.STATUS_CODE_ERROR
    assert [e.name for e in fail.events] == ["exception"]


def test_export_to_otlp_http_keeps_the_original_wall_clock_times(
    recording: tracer.Recording, monkeypatch: Any
) -> None:
    """The receiver gets both requests at header unix_ns + t, with their events and status."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    with OtlpHttpReceiver() as receiver:
        message = export_otlp(recording, ExportOptions(otlp_endpoint=receiver.endpoint))
        spans = receiver.spans()
    assert message.startswith("sent 2 spans to ")
    _check_wire(spans)


def test_export_to_otlp_grpc(recording: tracer.Recording, monkeypatch: Any) -> None:
    """The same over gRPC when OTEL_EXPORTER_OTLP_PROTOCOL=grpc."""
    pytest.importorskip("opentelemetry.exporter.otlp.proto.grpc.trace_exporter")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    with OtlpGrpcReceiver() as receiver:
        export_otlp(recording, ExportOptions(otlp_endpoint=receiver.endpoint))
        spans = receiver.spans()
    _check_wire(spans)


def test_no_collector_is_an_error_naming_the_endpoint(
    recording: tracer.Recording, monkeypatch: Any
) -> None:
    """Nothing listens: a TracerError that says where it tried and what to set."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1")
    with OtlpHttpReceiver() as receiver:
        endpoint = receiver.endpoint
    with pytest.raises(TracerError, match=f"{endpoint}.*--otlp-endpoint"):
        export_otlp(recording, ExportOptions(otlp_endpoint=endpoint))


def test_otlp_json_lines_use_hex_ids_and_nanosecond_times(
    recording: tracer.Recording, tmp_path: Any
) -> None:
    """Each line is an ExportTraceServiceRequest in OTLP/JSON: hex ids, unix-nano strings."""
    out = tmp_path / "spans.json"
    message = export_otlp_json(recording, ExportOptions(output=str(out), otel_detail="spans"))
    assert message == f"wrote 5 spans to {out}"
    (line,) = out.read_text().splitlines()
    request = json.loads(line)
    (resource_spans,) = request["resourceSpans"]
    resource = {a["key"]: a["value"] for a in resource_spans["resource"]["attributes"]}
    assert resource["service.name"] == {"stringValue": "shop:app"}
    spans = resource_spans["scopeSpans"][0]["spans"]
    by_name = {span["name"]: span for span in spans}
    items = by_name["GET /items"]
    assert len(items["traceId"]) == 32 and len(items["spanId"]) == 16
    assert items["startTimeUnixNano"] == str(UNIX_NS + 1_000)
    assert items["kind"] == 2  # SPAN_KIND_SERVER
    child = by_name["asgi.send http.response.body"]
    assert child["parentSpanId"] == items["spanId"] and child["traceId"] == items["traceId"]


def test_console_prints_each_span(recording: tracer.Recording) -> None:
    """--to console: the SDK's console format, one JSON object per span."""
    out = io.StringIO()
    assert export_console(recording, ExportOptions(stdout=out)) == "printed 2 spans"
    assert '"name": "GET /items"' in out.getvalue() and '"name": "GET /fail"' in out.getvalue()


def test_recording_spans_keeps_redacted_values_redacted(recording: tracer.Recording) -> None:
    """Redacted query values stay redacted in the spans; no header values are exported."""
    text = repr([dict(span.attributes) for span in recording_spans(recording)])
    assert "token=[redacted]" in text and "authorization" not in text


def test_otlp_json_of_one_recording_is_the_same_every_time(tmp_path: Any) -> None:
    """A seeded simulation exported twice: byte for byte the same file (trace and span ids
    and service.instance.id come from the recording), and another recording gets other ids."""
    from tracer.cli import main

    def export(argv: list[str], name: str) -> str:
        record = tmp_path / f"{name}.jsonl"
        assert main(["sim", *argv, "-n", "20", "--headless", "--record", str(record)]) == 0
        out = tmp_path / f"{name}.otlp.json"
        assert main(["export", str(record), "--to", "otlp-json", "-o", str(out)]) == 0
        return out.read_text()

    first = export(["--seed", "1"], "a")
    again = export(["--seed", "1"], "b")
    other = export(["--seed", "2"], "c")
    assert first == again
    ids = _span_ids(first)
    assert len(ids) > 20  # distinct span ids
    assert ids.isdisjoint(_span_ids(other))


def _span_ids(text: str) -> set[str]:
    """Every span id in OTLP/JSON lines."""
    return {
        span["spanId"]
        for line in text.splitlines()
        for resource in json.loads(line)["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    }


def test_spans_sent_to_a_collector_keep_random_ids(recording: tracer.Recording) -> None:
    """Only the file export is reproducible: recording_spans without a seed draws new ids."""
    first = {span.context.span_id for span in recording_spans(recording)}
    second = {span.context.span_id for span in recording_spans(recording)}
    assert first.isdisjoint(second)


@pytest.mark.parametrize(
    ("status", "answer"), [(400, "HTTP 400 Bad Request"), (503, "HTTP 503 Service Unavailable")]
)
def test_a_collector_that_refuses_the_spans_is_named_with_its_answer(
    recording: tracer.Recording, monkeypatch: Any, status: int, answer: str
) -> None:
    """A collector that is up but answers 400 (rejected) or 503 (retried, here as its
    Retry-After: 0 asks, until the exporter gives up): the error says what it answered, not
    "is a collector listening" (the spans did reach it)."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    with OtlpHttpReceiver(status, retry_after=0) as receiver:
        with pytest.raises(TracerError) as info:
            export_otlp(recording, ExportOptions(otlp_endpoint=receiver.endpoint))
        reached = len(receiver.requests)
    message = str(info.value)
    assert reached >= 1
    assert message.startswith(
        f"The OTLP collector at {receiver.endpoint} did not accept the spans ({answer}"
    )
    assert message.endswith("; 0 of 2 spans were sent.")
    assert "listening" not in message and "retrying" not in message


def test_a_refused_connection_still_asks_whether_a_collector_listens(
    recording: tracer.Recording, monkeypatch: Any
) -> None:
    """Nothing listening: the reason (connection refused) and the question about a collector.
    (A timeout of 2 s leaves room for the exporter's first retry, whose warning names it.)"""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "2")
    with OtlpHttpReceiver() as receiver:
        endpoint = receiver.endpoint
    with pytest.raises(TracerError) as info:
        export_otlp(recording, ExportOptions(otlp_endpoint=endpoint))
    assert str(info.value).startswith(f"Could not send spans to {endpoint} (connection refused")
    assert "Is a collector listening there?" in str(info.value)


def test_a_5xx_span_has_status_error_without_a_description_over_the_wire(
    tmp_path: Any, monkeypatch: Any
) -> None:
    """HTTP semantic conventions: a 5xx is ERROR with no description (the status code says
    why: the SDK's own HTTP instrumentations leave it out); an exception keeps its message,
    as the SDK's record of an exception writes it ("RuntimeError: down")."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    rec = tracer.Recorder(start_ns=0, clock=lambda: 0, wall_clock=lambda: UNIX_NS, app="a:app")
    start = {"method": "GET", "path": "/busy", "scope_type": "http"}
    rec.emit(K.REQUEST_START, 1, start, t=1_000, tid=7, thread="MainThread")
    rec.emit(K.ASGI_SEND, 1, {"type": "http.response.start", "status": 503}, t=1_100, tid=7)
    rec.emit(K.REQUEST_END, 1, {"status": 503}, t=2_000, tid=7)
    rec.emit(K.REQUEST_START, 2, {**start, "path": "/fail"}, t=3_000, tid=7)
    rec.emit(K.ERROR, 2, {"type": "RuntimeError", "message": "down"}, t=3_500, tid=7)
    rec.emit(K.REQUEST_END, 2, {"status": 500, "error": "RuntimeError"}, t=4_000, tid=7)
    with OtlpHttpReceiver() as receiver:
        export_otlp(rec.recording(), ExportOptions(otlp_endpoint=receiver.endpoint))
        spans = {span.name: span for span in receiver.spans()}
    busy, fail = spans["GET /busy"], spans["GET /fail"]
    assert (busy.status.code, busy.status.message) == (busy.status.STATUS_CODE_ERROR, "")
    assert {a.key: a.value.string_value for a in busy.attributes}["error.type"] == "503"
    assert (fail.status.code, fail.status.message) == (
        fail.status.STATUS_CODE_ERROR,
        "RuntimeError: down",
    )

"""After-the-fact OTLP export: over the wire with original times, OTLP JSON, console."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from export_recordings import UNIX_NS, two_requests

import tracer
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

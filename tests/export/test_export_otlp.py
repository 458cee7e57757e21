"""After-the-fact OTLP export: over the wire with original times, OTLP JSON, console."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from export_recordings import UNIX_NS, two_requests
from otel_recordings import label

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
    assert {span.name for span in spans} == {"GET"}  # no route: the method alone
    by_name = {label(span): span for span in spans}
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
    by_name = {label(span): span for span in spans}
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
    assert out.getvalue().count('"name": "GET"') == 2
    assert '"url.path": "/items"' in out.getvalue() and '"url.path": "/fail"' in out.getvalue()


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
        f"The OTLP collector at {receiver.endpoint}/v1/traces did not accept the spans ({answer}"
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
    assert str(info.value).startswith(
        f"Could not send spans to {endpoint}/v1/traces (connection refused"
    )
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
        spans = {label(span): span for span in receiver.spans()}
    busy, fail = spans["GET /busy"], spans["GET /fail"]
    assert (busy.status.code, busy.status.message) == (busy.status.STATUS_CODE_ERROR, "")
    assert {a.key: a.value.string_value for a in busy.attributes}["error.type"] == "503"
    assert (fail.status.code, fail.status.message) == (
        fail.status.STATUS_CODE_ERROR,
        "RuntimeError: down",
    )


def _real_spans(**options: Any) -> tuple[list[Any], dict[str, list[Any]]]:
    """``trace run`` against a real server serving an app of tests/servers/real/real_wire.py
    (stopped by pid, nothing left behind): its events, and its SERVER spans by name."""
    from real_helpers import HERE, alive

    from tracer.recorder import Recorder
    from tracer.run import RunConfig, open_server, run
    from tracer.servers.real.harness import group_members

    recorder = Recorder()
    config = RunConfig(**{"app_dir": HERE, "concurrency": 1, "requests": 2, **options})
    server = open_server(config, recorder)
    try:
        run(config, recorder, server=server)
    finally:
        server.stop()
        process = getattr(server, "process", None)
        pgid = process.pgid if process is not None else None
        if pgid is not None:
            assert group_members(pgid) == [] and not alive(pgid)
    recording = recorder.recording()
    spans: dict[str, list[Any]] = {}
    for span in recording_spans(recording):
        if span.kind.name == "SERVER":
            spans.setdefault(label(span), []).append(span)
    return recording.events, spans


@pytest.mark.timeout(90)
def test_real_servers_export_the_bytes_that_crossed_the_wire() -> None:
    """gunicorn, a 1 KB POST: /file answers through wsgi.file_wrapper (gunicorn sends it, the
    shim sees 0 bytes), /ignore never reads the body. The spans carry what the client sent
    and got (307200 bytes; 1024 each way in), the app's own counts beside them."""
    events, spans = _real_spans(
        app="real_wire:wsgi_app", server="gunicorn", method="POST", body=b"b" * 1024,
        paths=("/file", "/ignore"),
    )  # fmt: skip
    (file,) = spans["POST /file"]
    (ignore,) = spans["POST /ignore"]
    assert file.attributes["http.response.body.size"] == 307_200
    assert "tracer.bytes_out" not in file.attributes
    for span in (file, ignore):
        assert span.attributes["http.request.body.size"] == 1024
        assert span.attributes["tracer.bytes_in"] == 0
    assert {e.data["method"] for e in events if e.kind == K.CLIENT_SEND} == {"POST"}


@pytest.mark.timeout(90)
def test_a_real_head_response_has_no_body_and_requests_keep_their_method() -> None:
    """uvicorn, -m HEAD: the app sends 1000 body bytes, uvicorn sends none of them: the span's
    response size is 0 (tracer.bytes_out 1000). client.send and request.queued say HEAD."""
    events, spans = _real_spans(app="real_wire:asgi_app", server="uvicorn", method="HEAD",
                                paths=("/head",))  # fmt: skip
    for span in spans["HEAD /head"]:
        assert span.attributes["http.response.status_code"] == 200
        assert span.attributes["http.response.body.size"] == 0
        assert span.attributes["tracer.bytes_out"] == 1000
    for kind in (K.CLIENT_SEND, K.REQUEST_QUEUED):
        assert {e.data["method"] for e in events if e.kind == kind} == {"HEAD"}


@pytest.mark.timeout(90)
def test_a_real_websocket_denial_the_server_never_sent_fails_the_span() -> None:
    """daphne cannot send an app's websocket denial (401): the client's connection is reset
    with no response. The span agrees with the client: no status code, an error typed by the
    client's failure, the app's 401 kept beside it."""
    events, spans = _real_spans(app="real_wire:asgi_app", server="daphne",
                                paths=("ws:/deny",), ws_messages=1)  # fmt: skip
    answers = [e.data for e in events if e.kind == K.CLIENT_RESPONSE]
    assert [a["status"] for a in answers] == [None, None]
    for span, answer in zip(spans["GET /deny"], answers, strict=True):
        assert "http.response.status_code" not in span.attributes
        assert span.attributes["tracer.app_status_code"] == 401
        assert span.attributes["error.type"] == answer["error"]
        assert span.status.status_code.name == "ERROR"


@pytest.mark.timeout(90)
def test_a_real_response_the_client_timed_out_on_is_an_error_with_what_arrived() -> None:
    """uvicorn, a response that sends 5 bytes and stalls, --timeout 0.5s: the client records
    the 200 and the 5 bytes with TimeoutError; the span says 200, 5 bytes, and fails."""
    events, spans = _real_spans(app="real_wire:asgi_app", server="uvicorn", paths=("/stall",),
                                timeout=0.5)  # fmt: skip
    answers = [e.data for e in events if e.kind == K.CLIENT_RESPONSE]
    assert [(a["status"], a["bytes"], a["error"]) for a in answers] == [
        (200, 5, "TimeoutError")
    ] * 2
    for span in spans["GET /stall"]:
        assert span.attributes["http.response.status_code"] == 200
        assert span.attributes["http.response.body.size"] == 5
        assert span.attributes["error.type"] == "timeout"
        assert span.status.status_code.name == "ERROR"


@pytest.mark.timeout(90)
def test_requests_a_real_server_turned_away_are_named_by_their_method() -> None:
    """uvicorn --limit-concurrency 1, -m PUT at -c 4: the 503s uvicorn answers itself (the app
    never saw them) are spans named PUT, complete, with the status the client got."""
    events, spans = _real_spans(
        app="sample_apps.io_bound:asgi_app", server="uvicorn", method="PUT", concurrency=4,
        requests=12, paths=("/?ms=200",), server_options={"limit_concurrency": 1},
    )  # fmt: skip
    assert set(spans) == {"PUT /"}
    turned_away = [s for s in spans["PUT /"] if s.attributes["http.response.status_code"] == 503]
    assert {s.name for s in spans["PUT /"]} == {"PUT"}
    assert turned_away
    assert not any("tracer.incomplete" in s.attributes for s in turned_away)
    for kind in (K.CLIENT_SEND, K.REQUEST_QUEUED):
        assert {e.data["method"] for e in events if e.kind == kind} == {"PUT"}


@pytest.mark.parametrize("target", ["otlp-json", "console", "otlp"])
def test_otel_sdk_disabled_does_not_stop_an_export_asked_for_by_name(
    tmp_path: Any, monkeypatch: Any, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    """OTEL_SDK_DISABLED=true is for the SDK in apps: ``trace export --to otlp-json|console|otlp``
    still exports both spans (it used to end in an AttributeError traceback, exit 1)."""
    from tracer.cli import main

    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    record = two_requests(tmp_path / "run.jsonl")
    out = tmp_path / "spans.out"
    with OtlpHttpReceiver() as receiver:
        where = ["--otlp-endpoint", receiver.endpoint] if target == "otlp" else ["-o", str(out)]
        code = main(["export", record, "--to", target, *where])
        received = receiver.spans()
    err = capsys.readouterr().err
    assert (code, "Traceback" in err) == (0, False)
    if target == "otlp":
        _check_wire(received)
    else:
        text = out.read_text()
        assert text.count('"/items"') == 1 and text.count('"/fail"') == 1


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_a_collector_that_never_answers_timed_out_once(
    recording: tracer.Recording, monkeypatch: Any, protocol: str
) -> None:
    """A collector that accepts the request and stays silent: exactly one export reached it,
    and the error says it did not answer within the timeout (gRPC: DEADLINE_EXCEEDED), with
    no "retried" (there was no retry) and no question whether a collector listens (one did)."""
    if protocol == "grpc":
        pytest.importorskip("opentelemetry.exporter.otlp.proto.grpc.trace_exporter")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1")
    receiving = OtlpGrpcReceiver if protocol == "grpc" else OtlpHttpReceiver
    with receiving(silent=True) as receiver:
        with pytest.raises(TracerError) as info:
            export_otlp(recording, ExportOptions(otlp_endpoint=receiver.endpoint))
        exports = len(receiver.requests)
    message = str(info.value)
    assert exports == 1
    # The URL posted to (HTTP adds the signal path to a bare address); gRPC's as given.
    posted = receiver.endpoint + ("" if protocol == "grpc" else "/v1/traces")
    assert message.startswith(f"The OTLP collector at {posted} did not answer within ")
    detail = " (gRPC DEADLINE_EXCEEDED)" if protocol == "grpc" else ""
    assert message.endswith(
        f" s{detail}, the exporter's timeout (OTEL_EXPORTER_OTLP_TIMEOUT); 0 of 2 spans were sent."
    )
    assert "retried" not in message and "listening" not in message

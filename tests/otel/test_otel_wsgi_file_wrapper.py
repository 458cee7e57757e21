"""A ``wsgi.file_wrapper`` response's size on the OTLP wire is the bytes its ``request.end``
counts (what the server sends: the Content-Length, no more than the file holds), read from
the ``ExportTraceServiceRequest`` an ``OtlpHttpReceiver`` (http/protobuf) decoded."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from otel_recordings import LOOP_TID, recorder, start_data

from tracer import events as K
from tracer.export import ExportOptions
from tracer.export.otlp import export_otlp
from tracer.otel.testing import OtlpHttpReceiver
from tracer.recorder import Recorder
from tracer.servers import Request, ServerConfig, server_model

RESPONSE_SIZE = "http.response.body.size"
FILE_BYTES = 70_001

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def _http_protobuf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", raising=False)


def _server_attrs(rec: Recorder) -> dict[int, dict[str, Any]]:
    """The SERVER spans' attributes on the wire, by ``tracer.request_id``."""
    with OtlpHttpReceiver() as receiver:
        export_otlp(rec.recording(), ExportOptions(otlp_endpoint=receiver.endpoint))
        requests = list(receiver.requests)
    found: dict[int, dict[str, Any]] = {}
    for request in requests:
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    if span.kind == span.SPAN_KIND_SERVER:
                        attrs = {}
                        for kv in span.attributes:
                            kind = kv.value.WhichOneof("value")
                            attrs[kv.key] = getattr(kv.value, kind) if kind else None
                        found[attrs["tracer.request_id"]] = attrs
    return found


def test_a_file_sent_with_no_content_length_has_the_files_size(tmp_path: Path) -> None:
    """Through the ``threads`` model: the file's size (read by the shim from the file), not
    no size at all for want of a Content-Length."""
    path = tmp_path / "payload.bin"
    path.write_bytes(b"x" * FILE_BYTES)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](open(path, "rb"))  # noqa: SIM115 (closed by it)

    rec = Recorder()
    model = server_model("threads")(ServerConfig(app=app, workers=1), rec)
    model.start()
    try:
        response = asyncio.run(model.target.request(Request(path="/file"), timeout=10.0))
    finally:
        model.stop(timeout=2.0)
    assert (response.status, response.bytes_out) == (200, FILE_BYTES)
    (end,) = [e.data for e in rec.events if e.kind == K.REQUEST_END]
    assert end["file_wrapper"] is True and end["bytes_out"] == FILE_BYTES
    attrs = _server_attrs(rec)[response.req]
    assert attrs[RESPONSE_SIZE] == FILE_BYTES and "tracer.bytes_out" not in attrs


def test_a_file_shorter_than_its_content_length_is_the_bytes_sent() -> None:
    """Content-Length 70000 for a file of 5000 bytes: the server sends 5000, as the end says."""
    rec = recorder()
    rec.emit(K.REQUEST_START, 1, start_data(interface="wsgi"), t=100, tid=LOOP_TID)
    headers = [["Content-Length", "70000"]]
    rec.emit(K.WSGI_START_RESPONSE, 1, {"status": "200 OK", "headers": headers}, t=200, tid=1)
    end = {"status": 200, "bytes_in": 0, "bytes_out": 5000, "file_wrapper": True}
    rec.emit(K.REQUEST_END, 1, end, t=500, tid=LOOP_TID)
    attrs = _server_attrs(rec)[1]
    assert attrs[RESPONSE_SIZE] == 5000 and "tracer.bytes_out" not in attrs


def test_an_end_that_counted_nothing_keeps_the_declared_length() -> None:
    """``bytes_out`` 0 (a recording from before the count, or nothing to go by): the
    Content-Length the response declared, as before."""
    rec = recorder()
    rec.emit(K.REQUEST_START, 1, start_data(interface="wsgi"), t=100, tid=LOOP_TID)
    headers = [["Content-Length", "70000"]]
    rec.emit(K.WSGI_START_RESPONSE, 1, {"status": "200 OK", "headers": headers}, t=200, tid=1)
    end = {"status": 200, "bytes_in": 0, "bytes_out": 0, "file_wrapper": True}
    rec.emit(K.REQUEST_END, 1, end, t=500, tid=LOOP_TID)
    attrs = _server_attrs(rec)[1]
    assert attrs[RESPONSE_SIZE] == 70_000 and "tracer.bytes_out" not in attrs

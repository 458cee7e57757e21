"""Request spans against the stable HTTP semantic conventions, as decoded from the OTLP wire.

Each test exports a hand-built recording to an ``OtlpHttpReceiver`` (http/protobuf) and reads
the ``ExportTraceServiceRequest`` it decoded, so what is checked is what a collector gets.
Attribute names come from ``opentelemetry.semconv``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from opentelemetry.semconv.attributes import (
    error_attributes,
    http_attributes,
    server_attributes,
    url_attributes,
)
from otel_recordings import LOOP_TID, UNIX_NS, asgi_request, recorder, start_data

from tracer import events as K
from tracer._version import __version__
from tracer.export import ExportOptions
from tracer.export.otlp import export_otlp, export_otlp_json
from tracer.otel.sink import SCOPE_NAME
from tracer.otel.testing import OtlpHttpReceiver
from tracer.recorder import Recorder

METHOD = http_attributes.HTTP_REQUEST_METHOD
ROUTE = http_attributes.HTTP_ROUTE
STATUS = http_attributes.HTTP_RESPONSE_STATUS_CODE
RESPONSE_SIZE = "http.response.body.size"  # not in the stable module: still in development
PATH = url_attributes.URL_PATH
SCHEME = url_attributes.URL_SCHEME
ADDRESS = server_attributes.SERVER_ADDRESS
PORT = server_attributes.SERVER_PORT
ERROR = error_attributes.ERROR_TYPE

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def _http_protobuf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", raising=False)


def _wire(rec: Recorder) -> list[Any]:
    """The decoded export requests of ``trace export --to otlp`` of ``rec``'s recording."""
    with OtlpHttpReceiver() as receiver:
        export_otlp(rec.recording(), ExportOptions(otlp_endpoint=receiver.endpoint))
        return list(receiver.requests)


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def _attrs(span: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in span.attributes}


def _servers(requests: list[Any]) -> dict[int, Any]:
    """The SERVER spans on the wire, by ``tracer.request_id``."""
    found = {}
    for request in requests:
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    if span.kind == span.SPAN_KIND_SERVER:
                        found[_attrs(span)["tracer.request_id"]] = span
    return found


def _request(rec: Recorder, req: int, t: int, end: dict[str, Any] | None, **start: Any) -> None:
    rec.emit(K.REQUEST_START, req, start_data(**start), t=t, tid=LOOP_TID)
    if end is not None:
        rec.emit(K.REQUEST_END, req, end, t=t + 100, tid=LOOP_TID)


def test_a_span_is_named_by_its_method_and_route_never_by_its_path() -> None:
    """``{method} {http.route}``, else ``{method}``: a path (``/items/123``, a 404 on no route)
    is no name (one per item); it stays on url.path. An unknown method is ``HTTP``."""
    rec = recorder()
    ok = {"status": 200, "bytes_in": 0, "bytes_out": 0}
    _request(rec, 1, 0, {**ok, "status": 404}, path="/nothere/123")
    _request(rec, 2, 200, {**ok, "route": "/items/{item_id}"}, path="/items/7")
    _request(rec, 3, 400, ok, method="PURGE", path="/x")
    servers = _servers(_wire(rec))
    assert {req: span.name for req, span in servers.items()} == {
        1: "GET",
        2: "GET /items/{item_id}",
        3: "HTTP",
    }
    assert [_attrs(servers[req])[PATH] for req in (1, 2, 3)] == ["/nothere/123", "/items/7", "/x"]
    assert _attrs(servers[2])[ROUTE] == "/items/{item_id}" and ROUTE not in _attrs(servers[1])


def test_a_websocket_session_is_the_get_that_asked_for_the_upgrade() -> None:
    """The ASGI websocket scope has no method: the span is the HTTP server span of the GET
    upgrade request, with http.request.method (required) GET, named as any other."""
    rec = recorder()
    ws = {"scope_type": "websocket", "method": None, "scheme": "ws", "path": "/chat"}
    _request(rec, 1, 0, {"status": 101, "bytes_in": 3, "bytes_out": 3}, **ws)
    _request(rec, 2, 200, {"status": 101, "route": "/chat"}, **ws)
    servers = _servers(_wire(rec))
    assert [servers[req].name for req in (1, 2)] == ["GET", "GET /chat"]
    assert [_attrs(servers[req])[METHOD] for req in (1, 2)] == ["GET", "GET"]
    assert _attrs(servers[1])[STATUS] == 101


@pytest.mark.parametrize(
    ("headers", "address"),
    [
        ([["host", "api.example.com"]], ("api.example.com", None)),
        ([["host", "api.example.com:8443"]], ("api.example.com", 8443)),
        ([["host", "[2001:db8::1]:8080"]], ("2001:db8::1", 8080)),
        (
            [["host", "10.0.0.5:8000"], ["x-forwarded-host", "shop.example.org, inner.example"]],
            ("shop.example.org", None),
        ),
        (
            [
                ["host", "10.0.0.5:8000"],
                ["x-forwarded-host", "shop.example.org"],
                ["forwarded", 'for=203.0.113.7;host="fwd.example:9000";proto=https, host=b'],
            ],
            ("fwd.example", 9000),
        ),
        ([["user-agent", "curl/8"]], ("10.0.0.5", 8000)),
    ],
    ids=["host", "host-port", "host-ipv6", "x-forwarded-host", "forwarded", "socket"],
)
def test_server_address_is_the_host_the_client_asked_for(
    headers: list[list[str]], address: tuple[str, int | None]
) -> None:
    """The conventions' order for server spans: the host a proxy passed on (Forwarded#host,
    X-Forwarded-Host), then Host, then the socket (ASGI ``server``, 10.0.0.5:8000 here). A Host
    without a port gives no server.port (not the socket's)."""
    rec = recorder()
    _request(rec, 1, 0, {"status": 200}, server=["10.0.0.5", 8000], headers=headers)
    attrs = _attrs(_servers(_wire(rec))[1])
    assert (attrs[ADDRESS], attrs.get(PORT)) == address


def test_exports_after_the_fact_name_the_scope_version(tmp_path: Any) -> None:
    """``--to otlp`` and ``--to otlp-json`` carry the instrumentation scope as the live export
    does: name and version."""
    rec = recorder()
    asgi_request(rec, 1, 0)
    scopes = {
        (scope_spans.scope.name, scope_spans.scope.version)
        for request in _wire(rec)
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
    }
    assert scopes == {(SCOPE_NAME, __version__)}
    out = tmp_path / "spans.otlp.json"
    export_otlp_json(rec.recording(), ExportOptions(output=str(out)))
    (line,) = out.read_text().splitlines()
    scopes_json = [
        scope_spans["scope"]
        for resource_spans in json.loads(line)["resourceSpans"]
        for scope_spans in resource_spans["scopeSpans"]
    ]
    assert scopes_json == [{"name": SCOPE_NAME, "version": __version__}]


def test_requests_a_cut_recording_left_unended_last_to_its_end_with_a_scheme() -> None:
    """Cut at t=5000: request 2 only queued (t=200), request 3 started and sent its response
    start (t=400) but never ended. Both spans end where the recording does (as the figures
    draw them), not at their last event (0 µs for a queued one); the queued one has the
    required url.scheme of the requests that started (https here)."""
    rec = recorder()
    rec.emit(K.REQUEST_QUEUED, 2, {"method": "GET", "path": "/wait?x=1"}, t=200, tid=LOOP_TID)
    _request(rec, 1, 0, {"status": 200}, scheme="https")
    _request(rec, 3, 300, None, scheme="https")
    rec.emit(K.ASGI_SEND, 3, {"type": "http.response.start", "status": 200}, t=400, dur=10)
    _request(rec, 4, 4_900, {"status": 200}, scheme="https")
    servers = _servers(_wire(rec))
    times = {
        req: (span.start_time_unix_nano - UNIX_NS, span.end_time_unix_nano - UNIX_NS)
        for req, span in servers.items()
    }
    assert times == {1: (0, 100), 2: (200, 5_000), 3: (300, 5_000), 4: (4_900, 5_000)}
    queued = _attrs(servers[2])
    assert (queued[SCHEME], queued[PATH], queued["tracer.incomplete"]) == ("https", "/wait", True)
    assert _attrs(servers[3])[STATUS] == 200


def test_a_request_queued_in_a_recording_where_none_started_is_http() -> None:
    """No request started to say the scheme: http, the only one the load generator and the
    in-process servers speak."""
    rec = recorder()
    rec.emit(K.REQUEST_QUEUED, 1, {"method": "GET", "path": "/"}, t=0, tid=LOOP_TID)
    rec.emit(K.REQUEST_QUEUED, 2, {"method": "GET", "path": "/"}, t=50, tid=LOOP_TID)
    servers = _servers(_wire(rec))
    assert {req: _attrs(span)[SCHEME] for req, span in servers.items()} == {1: "http", 2: "http"}
    assert servers[1].end_time_unix_nano - UNIX_NS == 50


def test_a_timeout_with_no_response_has_no_response_size() -> None:
    """An in-process timeout (``request.end`` with no status, error ``timeout``): no response
    came, so no status code and no response body size (as the same timeout under a real
    server, where the client saw none), not a size of 0."""
    rec = recorder()
    end = {"status": None, "bytes_in": 0, "bytes_out": 0, "error": "timeout"}
    _request(rec, 1, 0, end, path="/slow")
    attrs = _attrs(_servers(_wire(rec))[1])
    assert STATUS not in attrs and RESPONSE_SIZE not in attrs
    assert attrs[ERROR] == "timeout" and "tracer.bytes_out" not in attrs


def test_a_request_a_server_answered_without_its_app_still_ends_at_its_answer() -> None:
    """uvicorn's 503 past its limit (no request.start or end, but the client's answer at
    t=100..120) is complete: it ends at the client's last byte, not where the recording ends
    (t=5000), as the requests left unended do."""
    rec = recorder()
    asked = {"method": "PUT", "path": "/sleep"}
    rec.emit(K.CLIENT_SEND, 1, {**asked, "bytes": 0}, t=0, tid=1)
    rec.emit(K.REQUEST_QUEUED, 1, asked, t=0, tid=1)
    rec.emit(K.CLIENT_RESPONSE, 1, {"status": 503, "bytes": 19}, t=100, dur=20, tid=1)
    _request(rec, 2, 4_900, {"status": 200})
    span = _servers(_wire(rec))[1]
    assert (span.name, span.end_time_unix_nano - UNIX_NS) == ("PUT", 120)
    assert "tracer.incomplete" not in _attrs(span)

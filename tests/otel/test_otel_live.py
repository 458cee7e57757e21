"""Live export: instrument(app, tracer_provider=tp) under real shims, and over the OTLP wire."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, StatusCode
from otel_recordings import label

import tracer
from sample_apps.hello import asgi_app, wsgi_app
from tracer.otel.live import _attach, attach_from_cli
from tracer.otel.testing import (
    OtlpGrpcReceiver,
    OtlpHttpReceiver,
    memory_provider,
    received_spans,
)
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``condition`` until true, within a bound (spans are built on another thread)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


async def _slow_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the body, sleeps (a suspension), answers 201 in two body chunks."""
    if scope["type"] != "http":
        return
    await receive()
    await asyncio.sleep(0.001)
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": b"a", "more_body": True})
    await send({"type": "http.response.body", "body": b"b"})


def _get_asgi(app: Any, paths: list[str]) -> None:
    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            await asyncio.gather(*(c.get(p, headers={"User-Agent": "ua/1"}) for p in paths))

    asyncio.run(main())


def test_instrument_asgi_with_tracer_provider_exports_one_server_span_per_request() -> None:
    """Three concurrent ASGI requests -> three SERVER spans with their messages as events."""
    provider, exporter = memory_provider()
    app = tracer.instrument(_slow_app, tracer_provider=provider)
    _get_asgi(app, ["/a", "/b?token=s3cret", "/c"])
    wait_for(lambda: len(exporter.get_finished_spans()) == 3)
    spans = {label(span): span for span in exporter.get_finished_spans()}
    assert set(spans) == {"GET /a", "GET /b", "GET /c"}
    b = spans["GET /b"]
    assert b.kind is SpanKind.SERVER
    assert b.attributes["url.query"] == "token=[redacted]"
    assert b.attributes["http.response.status_code"] == 201
    assert b.attributes["user_agent.original"] == "ua/1"
    names = [event.name for event in b.events]
    sends = [n for n in names if n.startswith("asgi.send")]
    assert sends == [
        "asgi.send http.response.start",
        "asgi.send http.response.body",
        "asgi.send http.response.body",
    ]
    assert names.index("asgi.receive http.request") < names.index(sends[0])
    assert b.attributes["tracer.steps"] >= 2  # the sleep suspended the request at least once


def test_a_fastapi_route_names_the_span() -> None:
    """FastAPI leaves the matched route in the scope: the shim records its template on
    ``request.end`` and the span is ``METHOD route`` with ``http.route`` (one name for every
    item, not one per URL); an unmatched path keeps ``METHOD path``."""
    from fastapi import FastAPI

    api = FastAPI()

    @api.get("/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    provider, exporter = memory_provider()
    rec = tracer.Recorder()
    app = tracer.instrument(api, recorder=rec, tracer_provider=provider)
    _get_asgi(app, ["/items/7", "/items/8", "/nowhere"])

    def server_spans() -> list[Any]:  # the def endpoint's thread hops are child spans
        return [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]

    wait_for(lambda: len(server_spans()) == 3)
    names = sorted(span.name for span in server_spans())
    # An unmatched path has no route: the name is the method alone, the path is url.path.
    assert names == ["GET", "GET /items/{item_id}", "GET /items/{item_id}"]
    (unrouted,) = [s for s in server_spans() if s.name == "GET"]
    assert unrouted.attributes["url.path"] == "/nowhere"
    routed = [s for s in server_spans() if s.name != "GET"]
    assert {s.attributes["http.route"] for s in routed} == {"/items/{item_id}"}
    ends = [e.data for e in rec.events if e.kind == "request.end"]
    assert sorted(str(d.get("route")) for d in ends) == ["/items/{item_id}"] * 2 + ["None"]


def test_a_route_under_a_mount_names_the_span_with_the_whole_template() -> None:
    """A Starlette sub-app mounted under ``/api/{version}``: the span is named after the whole
    template (``http.route`` as OpenTelemetry defines it), never the sub-app's own tail."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Mount, Route

    async def item(request: Request) -> Response:
        return PlainTextResponse("item")

    sub = Starlette(routes=[Route("/items/{n}", item)])
    outer = Starlette(routes=[Mount("/api/{version}", app=sub)])
    provider, exporter = memory_provider()
    app = tracer.instrument(outer, tracer_provider=provider)
    _get_asgi(app, ["/api/2/items/7"])
    wait_for(lambda: len(exporter.get_finished_spans()) == 1)
    (span,) = exporter.get_finished_spans()
    assert span.name == "GET /api/{version}/items/{n}"
    assert span.attributes["http.route"] == "/api/{version}/items/{n}"


def test_instrument_wsgi_with_tracer_provider_and_detail_spans() -> None:
    """WSGI with detail=spans: a server span whose children are the protocol calls."""
    provider, exporter = memory_provider()
    app = tracer.instrument(wsgi_app, tracer_provider=provider, otel={"detail": "spans"})
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as client:
        assert client.get("/w").status_code == 200
    wait_for(lambda: any(s.kind is SpanKind.SERVER for s in exporter.get_finished_spans()))
    spans = exporter.get_finished_spans()
    (server,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert label(server) == "GET /w"
    assert server.attributes["http.response.status_code"] == 200
    children = sorted(
        s.name for s in spans if s.parent and s.parent.span_id == server.context.span_id
    )
    assert "wsgi.start_response" in children and "wsgi.body" in children
    # Its own worker thread is told by attributes, not by a child span repeating the server's.
    assert not any(name.startswith("thread ") for name in children)
    assert server.attributes["tracer.thread_ns"] > 0
    assert server.attributes["thread.name"] == "MainThread"


def test_instrument_with_only_a_tracer_provider_keeps_no_events() -> None:
    """The recorder made for OTel alone does not accumulate events in memory."""
    provider, exporter = memory_provider()
    app = tracer.instrument(asgi_app, tracer_provider=provider)
    _get_asgi(app, ["/x"] * 5)
    wait_for(lambda: len(exporter.get_finished_spans()) == 5)
    assert app.recorder.keep is False
    assert app.recorder.events == []


def test_live_state_is_dropped_when_requests_end() -> None:
    """After every request ended, the live model holds no per-request state."""
    provider, exporter = memory_provider()
    rec = Recorder(keep=False)
    live = _attach(rec, provider, "events")
    app = tracer.instrument(asgi_app, recorder=rec)
    _get_asgi(app, [f"/{i}" for i in range(20)])
    live.flush()
    assert len(exporter.get_finished_spans()) == 20
    assert live.model.open_requests == 0
    rec.close()


def _assert_wire_spans(received: list[Any], before: int, after: int) -> None:
    servers = [s for s in received if s.kind == s.SPAN_KIND_SERVER]
    assert sorted(label(s) for s in servers) == ["GET /one", "GET /two"]
    for span in received:
        assert before <= span.start_time_unix_nano <= span.end_time_unix_nano <= after
    for server in servers:
        attrs = {a.key: a.value for a in server.attributes}
        assert attrs["http.request.method"].string_value == "GET"
        assert attrs["http.response.status_code"].int_value == 200
        assert [e.name for e in server.events][-2:] == [
            "asgi.send http.response.start",
            "asgi.send http.response.body",
        ]
        assert server.parent_span_id == b""


def test_otlp_http_wire_from_a_batch_span_processor() -> None:
    """instrument() + BatchSpanProcessor + OTLP/HTTP exporter -> a real receiver decodes spans."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    with OtlpHttpReceiver() as receiver:
        provider = TracerProvider(shutdown_on_exit=False)
        exporter = OTLPSpanExporter(endpoint=receiver.endpoint + "/v1/traces")
        provider.add_span_processor(BatchSpanProcessor(exporter))
        app = tracer.instrument(asgi_app, tracer_provider=provider)
        before = time.time_ns()
        _get_asgi(app, ["/one", "/two"])
        after = time.time_ns()
        # The recorder hands events over every 0.2 s; flush the batch processor until both came.
        wait_for(lambda: bool(provider.force_flush()) and len(receiver.spans()) >= 2)
        received = receiver.spans()
        provider.shutdown()
    _assert_wire_spans(received, before, after)


def _two_requests_exported(rec: Recorder, receiver: Any) -> tuple[list[Any], int, int]:
    """Two requests through an app instrumented with ``trace run --otlp``'s exporter pointed at
    ``receiver``: the spans it received, and the wall-clock bounds of the requests."""
    shutdown = attach_from_cli(rec, endpoint=receiver.endpoint)
    app = tracer.instrument(asgi_app, recorder=rec)
    before = time.time_ns()
    _get_asgi(app, ["/one", "/two"])
    after = time.time_ns()
    rec.close()
    shutdown()
    return receiver.wait_for(lambda spans: len(spans) >= 2), before, after


def test_attach_from_cli_sends_over_http_with_standard_variables(monkeypatch: Any) -> None:
    """trace run --otlp: OTEL_SERVICE_NAME, headers and the endpoint are honoured."""
    monkeypatch.setenv("OTEL_SERVICE_NAME", "checkout")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-team=web")
    with OtlpHttpReceiver() as receiver:
        rec = Recorder(app="sample_apps.hello:asgi_app")
        received, before, after = _two_requests_exported(rec, receiver)
        (resource_spans, _), *_ = received_spans(receiver.requests)
        headers = receiver.headers[0]
    _assert_wire_spans(received, before, after)
    resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert resource["service.name"] == "checkout"
    assert resource["deployment.environment"] == "test"
    assert headers["x-team"] == "web"


def test_attach_from_cli_over_grpc(monkeypatch: Any) -> None:
    """OTEL_EXPORTER_OTLP_PROTOCOL=grpc sends the same spans over gRPC."""
    pytest.importorskip("grpc")
    pytest.importorskip("opentelemetry.exporter.otlp.proto.grpc.trace_exporter")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    with OtlpGrpcReceiver() as receiver:
        rec = Recorder()
        received, before, after = _two_requests_exported(rec, receiver)
    _assert_wire_spans(received, before, after)


def test_fastapi_sync_route_hop_and_exception_become_spans() -> None:
    """Real FastAPI: a sync route's thread-pool hop is a child span; an exception sets ERROR."""
    fastapi = pytest.importorskip("fastapi")
    api = fastapi.FastAPI()

    @api.get("/sync")
    def sync_route() -> dict[str, bool]:
        return {"ok": True}

    @api.get("/boom")
    async def boom() -> None:
        raise ValueError("boom")

    provider, exporter = memory_provider()
    app = tracer.instrument(api, tracer_provider=provider)

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return [(await client.get(path)).status_code for path in ("/sync", "/boom")]

    assert asyncio.run(main()) == [200, 500]
    wait_for(lambda: sum(s.kind is SpanKind.SERVER for s in exporter.get_finished_spans()) == 2)
    spans = exporter.get_finished_spans()
    servers = {s.name: s for s in spans if s.kind is SpanKind.SERVER}
    hops = [s for s in spans if s.name.startswith("thread ")]
    assert hops  # the endpoint (and FastAPI's serialisation of it) ran in the thread pool
    assert {h.parent.span_id for h in hops} == {servers["GET /sync"].context.span_id}
    assert all(
        h.attributes["thread.id"] != servers["GET /sync"].attributes["thread.id"] for h in hops
    )
    failed = servers["GET /boom"]
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes["error.type"] == "ValueError"
    assert [e.attributes["exception.message"] for e in failed.events if e.name == "exception"] == [
        "boom"
    ]


def test_flask_request_becomes_a_server_span() -> None:
    """Real Flask under the WSGI shim: one SERVER span with the WSGI protocol calls as events."""
    flask = pytest.importorskip("flask")
    web = flask.Flask("spans")

    @web.get("/hello")
    def hello() -> str:
        return "hi"

    provider, exporter = memory_provider()
    app = tracer.instrument(web, tracer_provider=provider)
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as client:
        assert client.get("/hello", headers={"User-Agent": "flask-test"}).text == "hi"
    wait_for(lambda: len(exporter.get_finished_spans()) == 1)
    (span,) = exporter.get_finished_spans()
    assert label(span) == "GET /hello" and span.kind is SpanKind.SERVER
    assert span.attributes["user_agent.original"] == "flask-test"
    assert span.attributes["tracer.interface"] == "wsgi"
    names = [e.name for e in span.events]
    assert names[0] == "wsgi.start_response" and "wsgi.body" in names


def test_something_else_than_a_tracer_provider_is_a_usage_error() -> None:
    """instrument(app, tracer_provider=<not a provider>) says what it needs."""
    from tracer.errors import UsageError

    with pytest.raises(UsageError, match="must be an OpenTelemetry TracerProvider, not object"):
        tracer.instrument(asgi_app, tracer_provider=object())

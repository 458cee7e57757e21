"""Both sinks make the same spans; the SDK one honours the provider's sampler."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from otel_recordings import LOOP_TID, UNIX_NS, asgi_request, recorder, start_data

from tracer import events as K
from tracer.otel.sink import SCOPE_NAME, ApiSink, SdkSink, make_sink
from tracer.otel.spans import SpanModel
from tracer.otel.testing import memory_provider


def _shape(spans: list[Any]) -> list[tuple[Any, ...]]:
    """What a reader sees, ids replaced by names (ids are random)."""
    names = {span.context.span_id: span.name for span in spans}
    return sorted(
        (
            span.name,
            span.kind,
            span.start_time,
            span.end_time,
            tuple(sorted(span.attributes.items())),
            tuple((e.name, e.timestamp, tuple(sorted(e.attributes.items()))) for e in span.events),
            tuple(names.get(link.context.span_id) for link in span.links),
            names.get(span.parent.span_id) if span.parent else None,
            span.status.status_code,
            span.instrumentation_scope.name,
        )
        for span in spans
    )


def _run(sink_type: type, detail: str) -> list[Any]:
    provider, exporter = memory_provider()
    sink = sink_type(provider.get_tracer(SCOPE_NAME))
    rec = recorder()
    asgi_request(rec, 1, 0)
    asgi_request(rec, 2, 500, path="/other")
    rec.emit(K.LOOP_BLOCKED, 2, {"location": "a.py:1", "delayed": [1]}, t=900, dur=20, tid=LOOP_TID)
    rec.emit(K.ERROR, 2, {"type": "KeyError", "message": "k"}, t=950)
    model = SpanModel(sink, base_ns=UNIX_NS, detail=detail)
    model.feed(rec.recording().events)
    return list(exporter.get_finished_spans())


def test_sdk_sink_and_api_sink_make_identical_spans() -> None:
    """The fast path (ReadableSpan to the processors) equals the public-API path, both details."""
    for detail in ("events", "spans"):
        assert _shape(_run(SdkSink, detail)) == _shape(_run(ApiSink, detail))


def test_make_sink_takes_the_fast_path_only_for_the_sdk_tracer() -> None:
    """An SDK provider gets SdkSink; any other provider (here the API's no-op) gets ApiSink."""
    from opentelemetry.trace import NoOpTracerProvider

    provider, _ = memory_provider()
    assert isinstance(make_sink(provider), SdkSink)
    assert isinstance(make_sink(NoOpTracerProvider()), ApiSink)


def test_the_providers_sampler_decides_and_children_follow_the_request() -> None:
    """ALWAYS_OFF: no span at all, neither the request nor its children."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ALWAYS_OFF, shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    rec = recorder()
    asgi_request(rec, 1, 0)
    model = SpanModel(make_sink(provider), base_ns=UNIX_NS, detail="spans")
    model.feed(rec.recording().events)
    assert exporter.get_finished_spans() == ()


def test_spans_carry_the_providers_resource() -> None:
    """The resource (service.name...) of the provider is on every span."""
    from opentelemetry.sdk.resources import Resource

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "shop"}), shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    rec = recorder()
    rec.emit(K.REQUEST_START, 1, start_data(), t=0, tid=LOOP_TID)
    rec.emit(K.REQUEST_END, 1, {"status": 200}, t=5, tid=LOOP_TID)
    SpanModel(make_sink(provider), base_ns=UNIX_NS).feed(rec.recording().events)
    (span,) = exporter.get_finished_spans()
    assert span.resource.attributes["service.name"] == "shop"

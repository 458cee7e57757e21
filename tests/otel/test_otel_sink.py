"""Both sinks make the same spans; the SDK one honours the provider's sampler."""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from otel_recordings import LOOP_TID, UNIX_NS, asgi_request, recorder, start_data

from tracer import events as K
from tracer.otel.sink import SCOPE_NAME, ApiSink, SdkSink, _BatchRoom, make_sink
from tracer.otel.spans import SpanModel
from tracer.otel.testing import OtlpHttpReceiver, memory_provider


def _process(span: Any) -> dict[str, Any]:
    """The span's attributes with its process: the SDK sink says it in the span's resource,
    the API sink (whose provider's resource is its own) on the span."""
    pid = span.resource.attributes.get("process.pid")
    return {**span.attributes, **({"process.pid": pid} if pid is not None else {})}


def _shape(spans: list[Any]) -> list[tuple[Any, ...]]:
    """What a reader sees, ids replaced by names (ids are random)."""
    names = {span.context.span_id: span.name for span in spans}
    return sorted(
        (
            span.name,
            span.kind,
            span.start_time,
            span.end_time,
            tuple(sorted(_process(span).items())),
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


def _burst(requests: int) -> list[Any]:
    """The events of ``requests`` queued requests, as one recorder drain hands them over."""
    rec = recorder()
    for req in range(1, requests + 1):
        asgi_request(rec, req, req * 2_000)
    return rec.recording().events


@pytest.mark.timeout(60)
def test_a_burst_into_a_users_batch_processor_waits_for_room_instead_of_dropping() -> None:
    """The user's BatchSpanProcessor (SDK defaults: a queue of 2048) and OTLP exporter: one
    drain of 3000 requests makes 6000 spans at once. The sink waits, on its own thread, for
    the worker to take each batch, so all 6000 reach the collector (here without a waiting
    budget: the budget's bound is the fake-clock test below)."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    with OtlpHttpReceiver() as receiver:
        provider = TracerProvider(shutdown_on_exit=False)
        processor = BatchSpanProcessor(OTLPSpanExporter(endpoint=receiver.endpoint + "/v1/traces"))
        provider.add_span_processor(processor)
        sink = SdkSink(provider.get_tracer(SCOPE_NAME), wait_share=1.0)
        SpanModel(sink, base_ns=UNIX_NS).feed(_burst(3000))
        provider.shutdown()  # sends what is still queued
        spans = receiver.spans()
    assert len(spans) == 6000
    assert sum(span.name == "queued" for span in spans) == 3000


def test_waiting_for_room_takes_at_most_its_share_of_each_second() -> None:
    """A full queue nobody empties (a dead exporter): wait() gives up once half a second of
    the current second went to waiting, returns at once for the rest of that second, and
    waits again in the next; a queue that gets room ends the wait there. (Virtual time.)"""
    queue: deque[int] = deque(range(4), maxlen=4)
    now = [100.0]
    taken_at: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds
        if taken_at and now[0] >= taken_at[0]:
            taken_at.clear()
            queue.clear()  # the worker took a batch out

    room = _BatchRoom(share=0.5, clock=lambda: now[0], sleep=sleep)
    room.wait([queue])
    assert now[0] == pytest.approx(100.5)
    room.wait([queue])
    assert now[0] == pytest.approx(100.5)  # this second's share is spent: no wait
    now[0] = 101.2
    taken_at.append(101.3)
    room.wait([queue])
    assert now[0] == pytest.approx(101.3, abs=0.002) and not queue


def test_only_batch_processors_are_waited_for_even_those_added_later() -> None:
    """A provider with a SimpleSpanProcessor alone has no queue to wait for; a
    BatchSpanProcessor added after the sink was made (after ``instrument()``) is found, with
    its queue bounded by its size."""
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider, _ = memory_provider()
    sink = SdkSink(provider.get_tracer(SCOPE_NAME))
    assert sink.batch_queues() == []
    provider.add_span_processor(BatchSpanProcessor(InMemorySpanExporter(), 100, None, 10))
    assert [queue.maxlen for queue in sink.batch_queues()] == [100]
    provider.shutdown()

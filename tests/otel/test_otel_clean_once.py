"""``CleanSink`` cleans a span once, when it finishes; ``begin`` clamps only its start.

A sink that starts its span at ``begin`` through the public API (``ApiSink``) keeps the start
it was given then: a request recorded before the Unix epoch (a recording read from elsewhere)
must start at 0 there too, or the OTLP encoder raises on the negative time; its attributes,
set again at ``finish``, are the cleaned ones.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

from tracer import events as K
from tracer.events import Event
from tracer.otel.sink import ApiSink
from tracer.otel.spans import SpanModel
from tracer.otel.testing import memory_provider


def test_an_api_sink_span_of_a_request_before_the_epoch_starts_at_zero() -> None:
    provider, exporter = memory_provider()
    model = SpanModel(ApiSink(provider.get_tracer("t")), base_ns=-1_000)
    data: dict[str, Any] = {"method": "GET", "path": "/"}
    odd: Any = {"name": 2**70}  # a thread name of no attribute type, holding a big int
    model.feed(
        [
            Event(seq=0, t=0, kind=K.REQUEST_START, req=1, tid=1, thread=odd, data=data),
            Event(seq=1, t=5_000, kind=K.REQUEST_END, req=1, tid=1, data={"status": 2**70}),
        ]
    )
    (span,) = exporter.get_finished_spans()
    assert (span.start_time, span.end_time) == (0, 4_000)
    assert span.attributes["thread.name"] == str(odd)
    encode_spans([span])  # OTLP carries it: nothing out of range was left

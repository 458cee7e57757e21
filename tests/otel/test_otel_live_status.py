"""Live spans skip the OTLP clean-up pass (it cost a request ~15 µs): the one number an app
chooses, its status, is kept out of the span when OTLP cannot carry it, so an app sending
``status: 2**70`` cannot make the encoder fail a whole batch."""

from __future__ import annotations

import asyncio
from typing import Any

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tracer


async def _huge_status(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 2**70, "headers": []})
    await send({"type": "http.response.body", "body": b"x"})


def test_a_status_otlp_cannot_carry_is_left_out_of_a_live_span() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    rec = tracer.Recorder()
    app = tracer.instrument(_huge_status, recorder=rec, tracer_provider=provider)
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    rec.drain()
    assert sent[0]["status"] == 2**70  # the app's message went on unchanged
    spans = exporter.get_finished_spans()
    assert len(spans) == 1 and "http.response.status_code" not in spans[0].attributes
    encode_spans(spans)  # OTLP can carry every attribute: no ValueError

"""An ASGI app with OpenTelemetry of its own: its provider (set as the global one) batches a span
per request to the OTLP/HTTP endpoint in ``APP_OTLP_ENDPOINT``, as an app instrumented by hand
or by the zero-code agent does."""

from __future__ import annotations

import os
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_provider = TracerProvider()
# A long delay: nothing is sent during the run, everything waits for the stop's flush.
_provider.add_span_processor(
    BatchSpanProcessor(
        OTLPSpanExporter(endpoint=os.environ["APP_OTLP_ENDPOINT"] + "/v1/traces"),
        schedule_delay_millis=60_000,
    )
)
trace.set_tracer_provider(_provider)
_tracer = trace.get_tracer("real_own_otel")


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    with _tracer.start_as_current_span("the app's own span"):
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

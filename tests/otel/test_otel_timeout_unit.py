"""``OTEL_EXPORTER_OTLP_TIMEOUT`` as the OpenTelemetry specification gives it, in milliseconds."""

from __future__ import annotations

import pytest

from tracer.otel.config import export_timeout, make_exporter
from tracer.otel.delivery import TIMEOUT, Delivery
from tracer.otel.testing import OtlpHttpReceiver

pytestmark = pytest.mark.timeout(60)


def test_milliseconds_and_seconds_are_both_read() -> None:
    assert export_timeout(3.0, {"OTEL_EXPORTER_OTLP_TIMEOUT": "10000"}) == 10.0
    assert export_timeout(3.0, {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "1500"}) == 1.5
    assert export_timeout(3.0, {"OTEL_EXPORTER_OTLP_TIMEOUT": "7"}) == 7.0
    assert export_timeout(3.0, {"OTEL_EXPORTER_OTLP_TIMEOUT": "-5"}) == 10.0


def test_a_timeout_in_milliseconds_bounds_an_export_to_a_silent_collector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """1500 (ms, as the specification says it) against a collector that never answers: the
    export ends, timed out (read as seconds, it would wait 25 minutes, past this test's 60 s)."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1500")
    with OtlpHttpReceiver(silent=True) as receiver:
        delivery = Delivery(make_exporter(receiver.endpoint), receiver.endpoint, timeout=1.5)
        delivery.quiet()
        provider = TracerProvider(shutdown_on_exit=False)
        provider.add_span_processor(SimpleSpanProcessor(delivery))
        with provider.get_tracer("t").start_as_current_span("one"):
            pass
        provider.shutdown()
        delivery.loud()
    assert delivery.lost == 1
    assert delivery.reason is not None and delivery.reason.kind == TIMEOUT

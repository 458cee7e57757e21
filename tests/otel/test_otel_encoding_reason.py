"""An exporter's failure to encode the spans (protobuf's ValueError on a value OTLP cannot
carry) is no unreachable collector: the reason says encoding, and never blames it."""

from __future__ import annotations

import logging

from tracer.otel.delivery import ENCODING, UNREACHABLE, _reason, _what


def _record(exc: BaseException) -> logging.LogRecord:
    # As the OTLP exporters log a failed export: the exception among the record's args.
    return logging.LogRecord(
        "opentelemetry.exporter.otlp", logging.ERROR, __file__, 1, "Failed: %s", (exc,), None
    )


def test_an_encoding_error_is_not_blamed_on_the_collector() -> None:
    reason = _reason(_record(ValueError("Value out of range: -1")))
    assert reason is not None and reason.kind == ENCODING
    assert reason.text == "ValueError: Value out of range: -1"
    assert "could not be encoded" in _what(reason) and "reached" not in _what(reason)


def test_a_connection_error_is_still_unreachable() -> None:
    reason = _reason(_record(ConnectionRefusedError(111, "Connection refused")))
    assert reason is not None and reason.kind == UNREACHABLE

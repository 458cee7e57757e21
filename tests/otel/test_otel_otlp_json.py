"""``message_dict``: an OTLP message as OTLP/JSON, the object ``json_format.MessageToDict``
gives with trace and span ids in hex, field for field, so the JSON export's bytes are
unchanged; a message it cannot convert that way is a ``TypeError``."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from otel_recordings import LOOP_TID, UNIX_NS, asgi_request, recorder

from tracer import events as K
from tracer.otel.otlp_json import HEX_FIELDS, message_dict
from tracer.otel.sink import make_sink
from tracer.otel.spans import SpanModel
from tracer.otel.testing import memory_provider


def _reference(message: Any) -> Any:
    """What the JSON export wrote: protobuf's JSON mapping, then the ids made hex."""

    def hex_ids(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: base64.b64decode(v).hex() if k in HEX_FIELDS else hex_ids(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [hex_ids(v) for v in value]
        return value

    return hex_ids(MessageToDict(message, use_integers_for_enums=True))


def _same_bytes(message: Any) -> None:
    ours, theirs = message_dict(message), _reference(message)
    assert json.dumps(ours, separators=(",", ":")) == json.dumps(theirs, separators=(",", ":"))


@pytest.mark.parametrize("detail", ["events", "spans"])
def test_a_recordings_spans_convert_as_json_format_does(detail: str) -> None:
    """Request spans with their events or child spans, a link to a loop block's culprit, an
    exception, a violation: the same JSON, key order included."""
    rec = recorder()
    asgi_request(rec, 1, 0)
    asgi_request(rec, 2, 10_000, status=500)
    rec.emit(K.LOOP_BLOCKED, 1, {"location": "app.py:3", "delayed": [2]}, t=200, dur=50_000)
    rec.emit(K.ERROR, 2, {"type": "ValueError", "message": "bad"}, t=10_500, tid=LOOP_TID)
    rec.emit(K.VIOLATION, 2, {"rule": "ASGI-003", "message": "late"}, t=10_600, tid=LOOP_TID)
    provider, exporter = memory_provider()
    model = SpanModel(make_sink(provider), base_ns=UNIX_NS, detail=detail)
    model.feed(rec.recording().events)
    model.finish_all()
    spans = exporter.get_finished_spans()
    assert any(s.links for s in spans)
    _same_bytes(encode_spans(spans))


def test_every_kind_of_attribute_value_converts_as_json_format_does() -> None:
    """Strings, booleans (false too: a oneof member is set even at its default), 64-bit
    integers (as strings), doubles (non-finite ones as strings), bytes (base64, not hex),
    arrays and nested key-value lists; a span's ids in hex, its enums as numbers."""
    values = [
        AnyValue(string_value=""),
        AnyValue(bool_value=False),
        AnyValue(int_value=0),
        AnyValue(int_value=-(2**63)),
        AnyValue(double_value=0.0),
        AnyValue(double_value=float("nan")),
        AnyValue(double_value=float("-inf")),
        AnyValue(double_value=1e300),
        AnyValue(bytes_value=b"\x00\xff"),
        AnyValue(array_value=ArrayValue(values=[AnyValue(int_value=1), AnyValue()])),
        AnyValue(
            kvlist_value=KeyValueList(values=[KeyValue(key="k", value=AnyValue(bool_value=True))])
        ),
    ]
    span = Span(
        trace_id=bytes(range(16)),
        span_id=b"\x01" * 8,
        parent_span_id=b"\x02" * 8,
        name="GET /items",
        kind=Span.SPAN_KIND_SERVER,
        start_time_unix_nano=UNIX_NS,
        end_time_unix_nano=2**64 - 1,
        attributes=[KeyValue(key=f"a{i}", value=v) for i, v in enumerate(values)],
        dropped_attributes_count=3,
        links=[Span.Link(trace_id=b"\x03" * 16, span_id=b"\x04" * 8, flags=256)],
    )
    _same_bytes(span)
    converted = message_dict(span)
    assert converted["traceId"] == bytes(range(16)).hex()
    assert converted["links"][0]["spanId"] == "04" * 8
    assert converted["attributes"][8]["value"] == {"bytesValue": "AP8="}
    assert converted["kind"] == 2 and converted["endTimeUnixNano"] == str(2**64 - 1)


def test_a_message_outside_otlp_is_a_type_error() -> None:
    """A well-known type (json_format writes a Timestamp as a date) is not converted."""
    from google.protobuf.timestamp_pb2 import Timestamp

    with pytest.raises(TypeError, match="google.protobuf.Timestamp"):
        message_dict(Timestamp(seconds=1))

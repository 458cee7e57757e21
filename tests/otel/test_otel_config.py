"""Providers and exporters from the OTEL_* environment."""

from __future__ import annotations

from typing import Any

import pytest
from otel_recordings import UNIX_NS, asgi_request, recorder

from tracer.errors import UsageError
from tracer.otel.config import make_exporter, make_provider, make_resource, protocol_from_env
from tracer.otel.sink import make_sink
from tracer.otel.spans import SpanModel
from tracer.otel.testing import OtlpHttpReceiver


def test_protocol_defaults_to_http_protobuf_and_traces_variable_wins() -> None:
    """No variable: http/protobuf; the traces-specific variable overrides the general one."""
    assert protocol_from_env({}) == "http/protobuf"
    assert protocol_from_env({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}) == "grpc"
    assert protocol_from_env(
        {
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
        }
    ) == ("http/protobuf")


def test_an_unsupported_protocol_is_a_usage_error_naming_the_choices() -> None:
    """http/json is not offered: the message says which values are."""
    with pytest.raises(UsageError, match=r'"http/json".*http/protobuf, grpc'):
        protocol_from_env({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"})


def test_a_bare_endpoint_gets_the_traces_path(monkeypatch: Any) -> None:
    """--otlp-endpoint http://host:port posts to /v1/traces (the receiver 404s anything else)."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    with OtlpHttpReceiver() as receiver:
        provider = make_provider(make_exporter(receiver.endpoint + "/"), batch=False)
        rec = recorder()
        asgi_request(rec, 1, 0)
        SpanModel(make_sink(provider), base_ns=UNIX_NS).feed(rec.recording().events)
        spans = receiver.wait_for(lambda spans: len(spans) == 2)
        provider.shutdown()
    assert sorted(span.name for span in spans) == ["GET /items", "queued"]


def test_an_endpoint_that_is_not_a_url_is_a_usage_error() -> None:
    """A host:port without scheme is refused with an example of a good value."""
    with pytest.raises(UsageError, match="http://localhost:4318"):
        make_exporter("localhost:4318", environ={})


def test_service_name_comes_from_the_environment_or_falls_back(monkeypatch: Any) -> None:
    """OTEL_SERVICE_NAME wins; without it the given name (the app) is used."""
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    assert make_resource("myapp:app").attributes["service.name"] == "myapp:app"
    assert make_resource(None).attributes["service.name"] == "gateway-tracer"
    monkeypatch.setenv("OTEL_SERVICE_NAME", "billing")
    assert make_resource("myapp:app").attributes["service.name"] == "billing"

"""Providers and exporters from the OTEL_* environment."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace import Tracer
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from otel_recordings import UNIX_NS, asgi_request, recorder

from tracer.errors import UsageError
from tracer.otel.config import (
    export_timeout,
    make_exporter,
    make_provider,
    make_resource,
    protocol_from_env,
    sdk_provider,
)
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
        provider = make_provider(SimpleSpanProcessor(make_exporter(receiver.endpoint + "/")))
        rec = recorder()
        asgi_request(rec, 1, 0)
        SpanModel(make_sink(provider), base_ns=UNIX_NS).feed(rec.recording().events)
        spans = receiver.wait_for(lambda spans: len(spans) == 2)
        provider.shutdown()
    assert sorted(span.name for span in spans) == ["GET", "queued"]


def test_an_endpoint_that_is_not_a_url_is_a_usage_error() -> None:
    """A host:port without scheme is refused with an example of a good value."""
    with pytest.raises(UsageError, match="http://localhost:4318"):
        make_exporter("localhost:4318", environ={})


@pytest.mark.parametrize("command", ["export", "run"])
def test_an_endpoint_that_urlsplit_cannot_parse_is_one_line(
    command: str, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unclosed IPv6 bracket made urlsplit raise out of the check: a traceback and exit 1,
    in both commands; now one line and exit 2, before anything runs."""
    from tracer.cli import main

    endpoint = "http://[::1"
    if command == "export":
        record = tmp_path / "one.jsonl"
        assert main(["sim", "-n", "1", "--json", "--record", str(record)]) == 0
        argv = ["export", str(record), "--to", "otlp", "--otlp-endpoint", endpoint]
    else:
        argv = [
            "run",
            "sample_apps.hello:app",
            "-n",
            "1",
            "--headless",
            "--otlp-endpoint",
            endpoint,
        ]
        argv += ["--record", str(tmp_path / "run.jsonl")]
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == (
        f'trace: error: OTLP endpoint "{endpoint}" is not a valid URL; try "http://localhost:4318".\n'
    )


def test_service_name_comes_from_the_environment_or_falls_back(monkeypatch: Any) -> None:
    """OTEL_SERVICE_NAME wins; without it the given name (the app) is used."""
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    assert make_resource("myapp:app").attributes["service.name"] == "myapp:app"
    assert make_resource(None).attributes["service.name"] == "gateway-tracer"
    monkeypatch.setenv("OTEL_SERVICE_NAME", "billing")
    assert make_resource("myapp:app").attributes["service.name"] == "billing"


def test_our_own_provider_makes_spans_under_otel_sdk_disabled(monkeypatch: Any) -> None:
    """OTEL_SDK_DISABLED=true turns an app's SDK into a no-op (its provider's get_tracer() is
    the API's NoOpTracer); the provider a command of ours makes still gives the SDK tracer."""
    from opentelemetry.sdk.trace import TracerProvider

    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not isinstance(TracerProvider().get_tracer("app"), Tracer)
    assert isinstance(sdk_provider(shutdown_on_exit=False).get_tracer("ours"), Tracer)


def test_the_export_timeout_is_the_environments_else_the_given_one() -> None:
    """OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT (seconds) wins over the command's own default; a
    value that is no number gives the exporters' 10 s, as they read it."""
    assert export_timeout(3.0, {}) == 3.0
    assert export_timeout(3.0, {"OTEL_EXPORTER_OTLP_TIMEOUT": "7"}) == 7.0
    env = {"OTEL_EXPORTER_OTLP_TIMEOUT": "7", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "0.5"}
    assert export_timeout(3.0, env) == 0.5
    assert export_timeout(3.0, {"OTEL_EXPORTER_OTLP_TIMEOUT": "soon"}) == 10.0

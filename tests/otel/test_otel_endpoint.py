"""The OTLP/HTTP endpoint: the traces URL built as the OTLP specification says (``v1/traces``
after a base URL's path, never after its query; a per-signal URL used as it is), and no
credential of it (``user:password@``, a secret query value) in a line that names it. Each test
sends to a real collector on 127.0.0.1 that decodes the spans with opentelemetry-proto."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from otel_recordings import UNIX_NS, asgi_request, recorder

from tracer.cli import main
from tracer.otel.config import make_exporter, make_provider
from tracer.otel.sink import make_sink
from tracer.otel.spans import SpanModel
from tracer.otel.testing import OtlpHttpReceiver

pytestmark = pytest.mark.timeout(60)

VARIABLES = (
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
)


@pytest.fixture(autouse=True)
def _no_otlp_environment(monkeypatch: Any) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def _send_one_request(receiver: OtlpHttpReceiver, endpoint: str | None) -> list[str]:
    """One recorded request (two spans) through ``make_exporter(endpoint)``: the targets the
    collector was sent, once it has decoded both spans."""
    provider = make_provider(SimpleSpanProcessor(make_exporter(endpoint)))
    rec = recorder()
    asgi_request(rec, 1, 0)
    SpanModel(make_sink(provider), base_ns=UNIX_NS).feed(rec.recording().events)
    spans = receiver.wait_for(lambda spans: len(spans) == 2, timeout=5)
    provider.shutdown()
    assert sorted(span.name for span in spans) == ["GET", "queued"]
    return receiver.targets


def test_a_bare_endpoint_with_a_query_gets_the_path_before_the_query() -> None:
    """``--otlp-endpoint http://host:port/?api_key=K``: posted to ``/v1/traces?api_key=K``
    (it went to ``/?api_key=K/v1/traces``, which a collector answers with 404)."""
    with OtlpHttpReceiver() as receiver:
        targets = _send_one_request(receiver, f"{receiver.endpoint}/?api_key=K")
    assert set(targets) == {"/v1/traces?api_key=K"}


@pytest.mark.parametrize(
    ("base", "posted"),
    [
        ("", "/v1/traces"),
        ("/", "/v1/traces"),
        ("/?api_key=K", "/v1/traces?api_key=K"),
        ("?api_key=K", "/v1/traces?api_key=K"),
    ],
)
def test_the_base_variable_gets_the_path_after_its_own(
    monkeypatch: Any, base: str, posted: str
) -> None:
    """``OTEL_EXPORTER_OTLP_ENDPOINT`` is a base URL: ``v1/traces`` goes after its path and
    before its query."""
    with OtlpHttpReceiver() as receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint + base)
        targets = _send_one_request(receiver, None)
    assert set(targets) == {posted}


def test_the_traces_variable_is_used_as_it_is(monkeypatch: Any) -> None:
    """``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` wins over the base one and is used as given."""
    with OtlpHttpReceiver() as receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9/base")
        monkeypatch.setenv(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", f"{receiver.endpoint}/v1/traces?tenant=a"
        )
        targets = _send_one_request(receiver, None)
    assert set(targets) == {"/v1/traces?tenant=a"}


def test_trace_run_names_the_collector_without_its_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``trace run --otlp-endpoint 'http://user:PASSWORD@host:port/?token=TOKEN'`` to a
    collector that refuses the spans: they reach it at ``/v1/traces?token=TOKEN`` with the
    user's credentials, and the one line naming the collector shows neither secret."""
    with OtlpHttpReceiver(400) as receiver:
        port = receiver.port
        endpoint = f"http://user:SECRETPW@127.0.0.1:{port}/?token=SECRETTOK"
        code = main(
            ["run", "sample_apps.hello:asgi_app", "-n", "2", "-c", "1", "--json",
             "--record", str(tmp_path / "r.jsonl"), "--otlp", "--otlp-endpoint", endpoint]
        )  # fmt: skip
        targets, headers = receiver.targets, receiver.headers
    err = capsys.readouterr().err
    assert code == 0
    assert targets and set(targets) == {"/v1/traces?token=SECRETTOK"}
    basic = base64.b64encode(b"user:SECRETPW").decode()
    assert {h.get("authorization") for h in headers} == {f"Basic {basic}"}
    (line,) = [line for line in err.splitlines() if "OTLP collector" in line]
    assert line.startswith(
        f"trace: the OTLP collector at http://[redacted]@127.0.0.1:{port}/v1/traces"
        "?token=[redacted] did not accept the spans (HTTP 400 Bad Request); "
    )
    assert "SECRET" not in err


def test_trace_export_sends_to_the_path_before_the_query(tmp_path: Path) -> None:
    """``trace export --to otlp`` builds the URL the same way: every span arrives."""
    rec = recorder()
    asgi_request(rec, 1, 0)
    path = tmp_path / "r.jsonl"
    lines = [json.dumps(rec.header), *(json.dumps(e.to_dict()) for e in rec.recording().events)]
    path.write_text("\n".join(lines) + "\n")
    with OtlpHttpReceiver() as receiver:
        endpoint = f"{receiver.endpoint}/?api_key=K"
        code = main(["export", str(path), "--to", "otlp", "--otlp-endpoint", endpoint])
        spans, targets = receiver.spans(), receiver.targets
    assert code == 0
    assert sorted(span.name for span in spans) == ["GET", "queued"]
    assert set(targets) == {"/v1/traces?api_key=K"}


def test_trace_export_names_the_collector_without_its_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``trace export --to otlp``'s line (sent, or refused) shows neither secret."""
    rec = recorder()
    asgi_request(rec, 1, 0)
    path = tmp_path / "r.jsonl"
    lines = [json.dumps(rec.header), *(json.dumps(e.to_dict()) for e in rec.recording().events)]
    path.write_text("\n".join(lines) + "\n")
    for answer in (200, 400):
        with OtlpHttpReceiver(answer) as receiver:
            endpoint = f"http://user:SECRETPW@127.0.0.1:{receiver.port}/?token=SECRETTOK"
            main(["export", str(path), "--to", "otlp", "--otlp-endpoint", endpoint])
        said = capsys.readouterr()
        shown = f"http://[redacted]@127.0.0.1:{receiver.port}/v1/traces?token=[redacted]"
        assert shown in said.out + said.err
        assert "SECRET" not in said.out + said.err


def test_a_bad_endpoint_is_refused_without_its_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An endpoint refused before the run (not http) is named without its secrets too."""
    code = main(
        ["run", "sample_apps.hello:asgi_app", "-n", "1", "--headless",
         "--record", str(tmp_path / "r.jsonl"), "--otlp",
         "--otlp-endpoint", "ftp://user:SECRETPW@127.0.0.1:4318/?api_key=SECRETKEY"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        'trace: error: OTLP endpoint "ftp://[redacted]@127.0.0.1:4318/?api_key=[redacted]" is '
        'not an http(s) URL; try "http://localhost:4318".\n'
    )


@pytest.mark.parametrize(
    ("endpoint", "shown"),
    [
        ("http://127.0.0.1:4318/v1/traces", "http://127.0.0.1:4318/v1/traces"),
        ("http://u:p@h:4318/v1/traces?a=1&sig=S", "http://[redacted]@h:4318/v1/traces?a=1&sig=[redacted]"),
        ("https://token@h/x?access_token=T", "https://[redacted]@h/x?access_token=[redacted]"),
        ("u:p@h:4317", "[redacted]@h:4317"),  # the gRPC exporter's name for its target
        ("localhost:4317", "localhost:4317"),
        ("http://[::1", "http://[::1"),
    ],
)  # fmt: skip
def test_shown_endpoint(endpoint: str, shown: str) -> None:
    """What a message shows of an endpoint: no userinfo, no secret query value."""
    from tracer.otel.config import shown_endpoint

    assert shown_endpoint(endpoint) == shown

"""``trace run --otlp --otlp-endpoint URL``: every request of the run arrives as a span."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from otel_recordings import label

from tracer.cli import main
from tracer.otel.testing import OtlpHttpReceiver

pytestmark = pytest.mark.timeout(60)


def _run_with_otlp(tmp_path: Any, receiver: OtlpHttpReceiver, *options: str) -> int:
    """``trace run sample_apps.hello:asgi_app --json --otlp`` to ``receiver``: the exit code."""
    record = str(tmp_path / "run.jsonl")
    return main(
        ["run", "sample_apps.hello:asgi_app", *options, "--json", "--record", record,
         "--otlp", "--otlp-endpoint", receiver.endpoint]
    )  # fmt: skip


def test_trace_run_with_otlp_exports_each_request(tmp_path: Any, monkeypatch: Any) -> None:
    """A headless run of 6 requests sends 6 SERVER spans, timed within the run, to the receiver."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "hello-run")
    with OtlpHttpReceiver() as receiver:
        before = time.time_ns()
        code = _run_with_otlp(tmp_path, receiver, "-n", "6", "-c", "2")
        after = time.time_ns()
        spans = receiver.spans()
    assert code == 0
    servers = [s for s in spans if s.kind == s.SPAN_KIND_SERVER]
    assert len(servers) == 6
    assert {label(s) for s in servers} == {"GET /"}
    assert all(before <= s.start_time_unix_nano <= s.end_time_unix_nano <= after for s in servers)


def test_trace_run_against_real_uvicorn_exports_each_request_once(
    tmp_path: Any, monkeypatch: Any
) -> None:
    """uvicorn in a subprocess: client and server events of a request make one SERVER span."""
    pytest.importorskip("uvicorn")
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    with OtlpHttpReceiver() as receiver:
        code = _run_with_otlp(tmp_path, receiver, "--server", "uvicorn", "-n", "5", "-c", "1")
        spans = receiver.spans()
    assert code == 0
    servers = [s for s in spans if s.kind == s.SPAN_KIND_SERVER]
    assert [label(s) for s in servers] == ["GET /"] * 5
    ids = {s.span_id: s for s in servers}
    queued = [s for s in spans if s.name == "queued"]
    assert len(queued) == 5 and all(s.parent_span_id in ids for s in queued)
    assert {"lifespan startup", "lifespan shutdown"} <= {s.name for s in spans}


BOOM_APP = """
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["path"] == "/boom":
        raise ValueError("kaboom")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""


def _statuses(spans: list[Any]) -> dict[str, set[Any]]:
    """SERVER span name -> the http.response.status_code values its spans carry (None: none)."""
    found: dict[str, set[Any]] = {}
    for span in spans:
        if span.kind == span.SPAN_KIND_SERVER:
            attrs = {a.key: a.value.int_value for a in span.attributes}
            found.setdefault(label(span), set()).add(attrs.get("http.response.status_code"))
    return found


def test_an_app_that_raised_before_answering_has_the_status_uvicorn_sent(
    tmp_path: Any, monkeypatch: Any
) -> None:
    """uvicorn answers 500 for an app that raised before its response start; the recording's
    request.end has no status, its client.response has 500. The SERVER span carries 500, in
    the live export (--otlp) and in the export of the recording afterwards (--to otlp)."""
    pytest.importorskip("uvicorn")
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    (tmp_path / "boomapp.py").write_text(BOOM_APP, encoding="utf-8")
    record = tmp_path / "run.jsonl"
    with OtlpHttpReceiver() as receiver:
        code = main(
            ["run", "boomapp:app", "--app-dir", str(tmp_path), "--server", "uvicorn",
             "-n", "4", "-c", "1", "--path", "/boom", "--path", "/ok", "--json",
             "--record", str(record), "--otlp-endpoint", receiver.endpoint]
        )  # fmt: skip
        live = receiver.spans()
    assert code == 0
    with OtlpHttpReceiver() as receiver:
        again = ["export", str(record), "--to", "otlp", "--otlp-endpoint", receiver.endpoint]
        assert main(again) == 0
        after = receiver.spans()
    for spans in (live, after):
        assert _statuses(spans) == {"GET /boom": {500}, "GET /ok": {200}}
        for span in spans:
            if label(span) == "GET /boom":
                assert span.status.code == span.status.STATUS_CODE_ERROR
                assert span.status.message == "ValueError: kaboom"


def test_trace_run_with_no_collector_says_so_once_and_completes(
    tmp_path: Any, monkeypatch: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """--otlp to a port where nothing listens: exit 0, the recording written, and one stderr
    line naming the collector's URL instead of the exporter's retry warnings."""
    import socket

    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"
    record = tmp_path / "run.jsonl"
    code = main(
        ["run", "sample_apps.hello:asgi_app", "-n", "4", "-c", "2", "--json",
         "--record", str(record), "--otlp", "--otlp-endpoint", endpoint]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0
    assert json.loads(out)["completed"] == 4
    lines = [line for line in err.splitlines() if "OTLP collector" in line]
    assert len(lines) == 1
    assert lines[0].startswith(
        f"trace: the OTLP collector at {endpoint}/v1/traces could not be reached "
        "(connection refused); "
    )
    assert "spans were not exported" in lines[0]
    assert "Transient error" not in err and "Traceback" not in err
    assert record.stat().st_size > 0 and f"recording: {record}" in err


def test_trace_run_against_a_collector_answering_503_says_so_without_a_retry_promise(
    tmp_path: Any, monkeypatch: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A collector that answers 503: the run completes (exit 0) and its one line names the
    answer; the exporter's "(... retrying in 0.81s.)" was pasted in, though the process exits
    at once and nothing is retried."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    with OtlpHttpReceiver(503) as receiver:
        code = _run_with_otlp(tmp_path, receiver, "-n", "4", "-c", "2")
        reached = len(receiver.requests)
    err = capsys.readouterr().err
    assert code == 0 and reached >= 1
    (line,) = [line for line in err.splitlines() if "OTLP collector" in line]
    assert line.startswith(
        f"trace: the OTLP collector at {receiver.endpoint}/v1/traces did not accept the spans "
        "(HTTP 503 Service Unavailable); "
    )
    assert "spans were not exported (the run and its recording are complete)." in line
    assert "retrying" not in err


def test_an_endpoint_alone_asks_for_the_export(tmp_path: Any, monkeypatch: Any) -> None:
    """--otlp-endpoint without --otlp exports too (it used to be ignored without a word)."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    with OtlpHttpReceiver() as receiver:
        code = main(
            ["run", "sample_apps.hello:asgi_app", "-n", "3", "-c", "1", "--json",
             "--record", str(tmp_path / "r.jsonl"), "--otlp-endpoint", receiver.endpoint]
        )  # fmt: skip
        spans = receiver.spans()
    assert code == 0
    assert len([s for s in spans if s.kind == s.SPAN_KIND_SERVER]) == 3


@pytest.mark.parametrize(
    "endpoint", ["notaurl", "ftp://127.0.0.1:4318", "http://127.0.0.1:99999", "http://:4318"]
)
def test_a_bad_endpoint_is_one_line_before_the_run(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], endpoint: str
) -> None:
    """Not an http(s) URL with a host and a valid port: one stderr line, exit 2, no progress
    bar and no recording (nothing was started)."""
    record = tmp_path / "r.jsonl"
    code = main(
        ["run", "sample_apps.hello:asgi_app", "-n", "3", "--headless", "--record", str(record),
         "--otlp", "--otlp-endpoint", endpoint]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f'OTLP endpoint "{endpoint}"' in err
    assert not record.exists()


def _dead_endpoint() -> str:
    """An http URL on 127.0.0.1 where nothing listens (the port was free a moment ago)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_busy_run_sends_every_span_to_a_working_collector(
    tmp_path: Any, monkeypatch: Any, capsys: pytest.CaptureFixture[str], caplog: Any
) -> None:
    """5000 requests at concurrency 50: the recorder hands over thousands of spans per drain,
    more than the batch queue holds (2048). Every one of the 10002 spans (a SERVER span and its
    ``queued`` child per request, lifespan startup and shutdown) reaches the collector, and
    nothing is said: no "Queue full" from the SDK, no line about the collector."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    with OtlpHttpReceiver() as receiver:
        code = _run_with_otlp(tmp_path, receiver, "-n", "5000", "-c", "50")
        spans = receiver.spans()
    err = capsys.readouterr().err
    assert code == 0
    assert sum(span.kind == span.SPAN_KIND_SERVER for span in spans) == 5000
    assert len(spans) == 10002
    assert "OTLP collector" not in err
    assert not [r for r in caplog.records if "Queue full" in r.getMessage()]


def test_a_busy_run_without_a_collector_counts_every_span_it_did_not_export(
    tmp_path: Any, monkeypatch: Any, capsys: pytest.CaptureFixture[str], caplog: Any
) -> None:
    """3000 requests and nothing listening: the one line counts all 6002 spans, those the
    exporter failed to send and those that never reached it (it used to say 2560 or so)."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    endpoint = _dead_endpoint()
    code = main(
        ["run", "sample_apps.hello:asgi_app", "-n", "3000", "-c", "50", "--json",
         "--record", str(tmp_path / "run.jsonl"), "--otlp-endpoint", endpoint]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0
    (line,) = [line for line in err.splitlines() if "OTLP collector" in line]
    assert "could not be reached (connection refused); 6002 spans were not exported" in line
    assert not [r for r in caplog.records if "Queue full" in r.getMessage()]


def test_a_collector_that_never_answers_is_named_as_silent_not_unreachable(
    tmp_path: Any, monkeypatch: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A collector that takes each request and never answers: the line says it did not answer
    within the exporter's timeout (1 s here), not that it could not be reached (it was)."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1")
    with OtlpHttpReceiver(silent=True) as receiver:
        code = _run_with_otlp(tmp_path, receiver, "-n", "4", "-c", "2")
        reached = len(receiver.requests)
    err = capsys.readouterr().err
    assert code == 0 and reached >= 1
    (line,) = [line for line in err.splitlines() if "OTLP collector" in line]
    assert line.startswith(
        f"trace: the OTLP collector at {receiver.endpoint}/v1/traces did not answer within "
    )
    assert "s; 10 spans were not exported (the run and its recording are complete)." in line


def test_otel_sdk_disabled_does_not_stop_the_export_a_run_asked_for(
    tmp_path: Any, monkeypatch: Any
) -> None:
    """OTEL_SDK_DISABLED=true is for apps' SDKs: ``trace run --otlp`` still sends its spans (it
    used to send none and say nothing)."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    with OtlpHttpReceiver() as receiver:
        code = _run_with_otlp(tmp_path, receiver, "-n", "3", "-c", "1")
        spans = receiver.spans()
    assert code == 0
    assert sum(span.kind == span.SPAN_KIND_SERVER for span in spans) == 3

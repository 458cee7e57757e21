"""``OTEL_BSP_MAX_EXPORT_BATCH_SIZE``, the SDK's variable for the spans one export sends:
``trace export`` sends (and writes) batches of that size, and a value that is no positive
whole number is one line and exit code 2, for ``trace export`` and ``trace run --otlp``
alike, before anything is written, sent or run. So is a span limit that is no whole number
(``OTEL_SPAN_EVENT_COUNT_LIMIT``), which the SDK raised as a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from export_recordings import two_requests

from tracer.cli import main
from tracer.otel.testing import OtlpHttpReceiver

pytestmark = pytest.mark.timeout(60)


def test_trace_export_sends_batches_of_the_size_the_environment_sets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Five spans in batches of 2: three export requests on the wire, of 2, 2 and 1 spans;
    the OTLP JSON file gets one line per batch the same way."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "2")
    recording = two_requests(tmp_path / "run.jsonl")
    with OtlpHttpReceiver() as receiver:
        code = main(
            ["export", recording, "--to", "otlp", "--otel-detail", "spans",
             "--otlp-endpoint", receiver.endpoint]
        )  # fmt: skip
        requests = list(receiver.requests)
    assert code == 0
    sizes = [
        sum(len(s.spans) for r in req.resource_spans for s in r.scope_spans) for req in requests
    ]
    assert sizes == [2, 2, 1]
    out = tmp_path / "spans.json"
    assert (
        main(["export", recording, "--to", "otlp-json", "--otel-detail", "spans", "-o", str(out)])
        == 0
    )
    assert len(out.read_text().splitlines()) == 3
    assert capsys.readouterr().err.splitlines()[-1] == f"trace: wrote 5 spans to {out}"


@pytest.mark.parametrize("value", ["abc", "0", "-5", "2.5"])
def test_a_batch_size_that_is_no_positive_whole_number_is_one_line_before_anything_is_written(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", value)
    recording = two_requests(tmp_path / "run.jsonl")
    out = tmp_path / "spans.json"
    code = main(["export", recording, "--to", "otlp-json", "-o", str(out)])
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        f'trace: error: OTEL_BSP_MAX_EXPORT_BATCH_SIZE is "{value}": give it a positive whole '
        "number of spans per export (512 if unset)."
    ]
    assert not out.exists()


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("abc", 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE is "abc": give it a positive whole number'),
        ("0", 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE is "0": give it a positive whole number'),
        ("4096", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE is 4096, more than the batch queue holds "
         "(OTEL_BSP_MAX_QUEUE_SIZE: 2048 spans)"),
    ],
)  # fmt: skip
def test_trace_run_refuses_a_batch_size_it_cannot_use_before_the_run(
    value: str,
    said: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The SDK's batch processor logged a traceback for text (and used 512) and raised one for
    0 or a batch larger than its queue, once the load had begun; now one line before it."""
    monkeypatch.delenv("OTEL_BSP_MAX_QUEUE_SIZE", raising=False)
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", value)
    record = tmp_path / "run.jsonl"
    code = main(
        ["run", "sample_apps.hello:asgi_app", "-n", "2", "--json", "--record", str(record),
         "--otlp", "--otlp-endpoint", "http://127.0.0.1:9"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    (line,) = err.splitlines()
    assert line.startswith(f"trace: error: {said}")
    assert not record.exists()


@pytest.mark.parametrize("command", ["export", "run"])
def test_a_span_limit_that_is_no_whole_number_is_one_line(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OTEL_SPAN_EVENT_COUNT_LIMIT", "lots")
    argv: list[Any]
    if command == "export":
        argv = ["export", two_requests(tmp_path / "run.jsonl"), "--to", "console"]
    else:
        argv = ["run", "sample_apps.hello:asgi_app", "-n", "2", "--json",
                "--record", str(tmp_path / "new.jsonl"), "--otlp-endpoint", "http://127.0.0.1:9"]  # fmt: skip
    code = main(argv)
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "trace: error: OTEL_SPAN_EVENT_COUNT_LIMIT must be a non-negative integer but got lots; "
        "give it a whole number, or unset it."
    ]

"""An app's own OpenTelemetry spans reach its collector when trace stops the server: uvicorn
ends its process by raising its stop signal again, which skips the exit hooks that flush an
SDK's batch; the server process flushes the app's global provider before that."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tracer.cli import main
from tracer.otel.testing import OtlpHttpReceiver

pytestmark = pytest.mark.timeout(90)


def test_the_apps_own_batched_spans_are_sent_when_uvicorn_stops(
    tmp_path: Any, monkeypatch: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with OtlpHttpReceiver() as receiver:
        monkeypatch.setenv("APP_OTLP_ENDPOINT", receiver.endpoint)
        monkeypatch.syspath_prepend(os.path.dirname(__file__))
        code = main(
            ["run", "real_own_otel:app", "--server", "uvicorn", "-n", "3", "-c", "1",
             "--json", "--record", str(tmp_path / "r.jsonl"), "--app-dir", os.path.dirname(__file__)]
        )  # fmt: skip
        spans = receiver.wait_for(lambda spans: len(spans) >= 3, timeout=10)
    capsys.readouterr()
    assert code == 0
    assert [span.name for span in spans] == ["the app's own span"] * 3

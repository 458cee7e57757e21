"""The recording's header says how its headers were redacted (``redact``), so whoever is handed
a file can tell whether an ``Authorization`` in it could be in clear: ``true`` for the default
rule, ``false`` for ``instrument(redact=False)``, the names given to ``redact_headers``, and
``"mixed"`` when apps sharing the recorder were instrumented differently."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import tracer
from tracer.cli import main


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hi"]


async def asgi_hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hi"})


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        ({}, True),
        ({"redact": False}, False),
        ({"redact_headers": {"X-Api-Key", "authorization"}}, ["authorization", "x-api-key"]),
    ],
)
def test_instrument_writes_how_it_redacts(settings: dict[str, Any], said: Any) -> None:
    for app in (hello, asgi_hello):
        recorder = tracer.Recorder()
        tracer.instrument(app, recorder=recorder, **settings)
        assert recorder.header["redact"] == said


def test_apps_sharing_a_recorder_redacting_differently_say_mixed() -> None:
    recorder = tracer.Recorder()
    tracer.instrument(hello, recorder=recorder)
    tracer.instrument(asgi_hello, recorder=recorder)
    assert recorder.header["redact"] is True
    tracer.instrument(hello, recorder=recorder, redact=False)
    assert recorder.header["redact"] == "mixed"


def test_a_saved_recording_and_trace_run_say_it(tmp_path: Path) -> None:
    recorder = tracer.Recorder()
    tracer.instrument(hello, recorder=recorder, redact=False)
    recorder.save(tmp_path / "lib.jsonl")
    assert tracer.load(tmp_path / "lib.jsonl").header["redact"] is False
    record = tmp_path / "run.jsonl"
    argv = ["run", "sample_apps.hello:application", "-n", "2", "--headless", "--record"]
    assert main([*argv, str(record)]) == 0
    header = json.loads(record.read_text(encoding="utf-8").splitlines()[0])
    assert header["redact"] is True

"""Violations are in every recording: ``trace run`` in-process models and real servers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tracer
from tracer import events as K
from tracer.cli import main
from tracer.sourcepath import display_path

APPS = display_path(str(Path(__file__).resolve().parent / "check_apps.py"))

pytestmark = pytest.mark.timeout(120)


def _run(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str) -> tuple[dict, list]:
    path = tmp_path / "run.jsonl"
    assert (
        main(["run", *args, "-n", "4", "-c", "2", "--headless", "--json", "--record", str(path)])
        == 0
    )
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    violations = [e for e in tracer.load(path).events if e.kind == K.VIOLATION]
    return summary, violations


def test_trace_run_threads_model_records_violations(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Each request of a WSGI app without Content-Type leaves one self-describing violation."""
    summary, violations = _run(capsys, tmp_path, f"{APPS}:wsgi_untyped", "--server", "threads")
    assert summary["violations"] == 4
    assert {e.data["rule"] for e in violations} == {"WSGI-016"}
    assert len({e.req for e in violations}) == 4
    assert all(e.data["severity"] == "warning" and e.data["hint"] for e in violations)


def test_real_waitress_records_violations_with_location(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Under a real waitress, the shim inside the server records the app's violations.

    waitress itself refuses the hop-by-hop header (an AssertionError out of start_response),
    so the rules judged at the end of a request are moot: two violations per request.
    """
    summary, violations = _run(capsys, tmp_path, f"{APPS}:wsgi_bad", "--server", "waitress")
    assert summary["violations"] == 4 * 2
    assert sorted({e.data["rule"] for e in violations}) == ["WSGI-005", "WSGI-013"]
    status = [e for e in violations if e.data["rule"] == "WSGI-005"]
    assert len(status) == 4
    assert all(e.data["location"].startswith(APPS + ":") for e in status)


def test_violations_are_exported_as_span_events_and_perfetto_instants() -> None:
    """OTLP spans carry each violation as a span event; Perfetto shows it as an instant."""
    import check_apps

    from tracer.conformance.driver import check_app
    from tracer.export.otlp import recording_spans
    from tracer.export.perfetto import to_chrome_trace

    recorder = tracer.Recorder()
    check_app(check_apps.asgi_bad, paths=["/"], recorder=recorder)
    recording = recorder.recording()
    rules = {
        str(attributes.get("tracer.rule"))
        for span in recording_spans(recording)
        for event in span.events
        if event.name == K.VIOLATION
        for attributes in [dict(event.attributes or {})]
    }
    assert {"HTTP-001", "WS-001"} <= rules
    trace = json.dumps(to_chrome_trace(recording))
    assert "HTTP-001" in trace and "WS-001" in trace


def test_real_uvicorn_records_asgi_violations(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Under a real uvicorn, each body-before-start is one HTTP-001 event with the app's line.

    uvicorn then raises inside send(), so the app fails: the violation says why.
    """
    summary, violations = _run(capsys, tmp_path, f"{APPS}:asgi_http_bad", "--server", "uvicorn")
    assert [e.data["rule"] for e in violations] == ["HTTP-001"] * 4
    assert summary["violations"] == 4 and summary["errors"] == 4
    assert all(e.data["location"].startswith(APPS + ":") for e in violations)

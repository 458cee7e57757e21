"""The report formats: text for people, JSON and JUnit XML that parse, exit decisions."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from typing import Any

from tracer import events as K
from tracer.conformance.findings import (
    FORMATS,
    CheckReport,
    Finding,
    app_location,
    crashes_from_events,
    findings_from_events,
    render_json,
    render_junit,
    render_text,
)
from tracer.events import Event
from tracer.sourcepath import display_path


def _report() -> CheckReport:
    return CheckReport(
        app="myapp:app",
        interface="asgi",
        findings=[
            Finding("HTTP-001", "error", "body before start", "Send start.", "GET /", "a.py:3"),
            Finding("HTTP-011", "warning", "not lowercase", "Lowercase.", "POST /", None),
        ],
        requests=["GET /", "POST /", "lifespan"],
        skipped=["websocket /: the app does not handle websocket scopes"],
    )


def test_counts_and_verdicts() -> None:
    """Errors fail the check; warnings only with strict."""
    report = _report()
    assert (report.errors, report.warnings) == (1, 1)
    assert report.failed() and report.failed(strict=True)
    clean = CheckReport(app="x", interface="wsgi", findings=[report.findings[1]])
    assert not clean.failed() and clean.failed(strict=True)


def test_json_has_the_documented_fields() -> None:
    """``violations`` rows carry rule, severity, message, hint, request, location."""
    payload = json.loads(render_json(_report()))
    assert payload["violations"][0] == {
        "rule": "HTTP-001",
        "severity": "error",
        "message": "body before start",
        "hint": "Send start.",
        "request": "GET /",
        "location": "a.py:3",
    }
    assert payload["violations"][1]["location"] is None
    assert payload["errors"] == 1 and payload["requests"] == ["GET /", "POST /", "lifespan"]


def test_junit_parses_with_a_case_per_request() -> None:
    """One testcase per request (failures inside), skipped probes as skipped cases."""
    suite = ET.fromstring(render_junit(_report()))
    assert suite.tag == "testsuite"
    assert (
        suite.get("tests") == "4" and suite.get("failures") == "1" and suite.get("skipped") == "1"
    )
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    failure = cases["GET /"].find("failure")
    assert failure is not None and failure.get("message") == "HTTP-001: body before start"
    assert "a.py:3" in (failure.text or "")
    assert cases["lifespan"].find("failure") is None
    assert sum(1 for _ in suite.iter("skipped")) == 1
    # A warning fails neither the exit code nor the JUnit page without --strict: it is output.
    assert cases["POST /"].find("failure") is None
    out = cases["POST /"].find("system-out")
    assert out is not None and out.text == "HTTP-011 (warning): not lowercase at unknown location"


def test_junit_with_strict_fails_warnings_too() -> None:
    """--strict: the exit code and the JUnit failures agree again, warnings included."""
    report = _report()
    report.strict = True
    suite = ET.fromstring(render_junit(report))
    assert suite.get("failures") == "2" and report.failed()
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    failure = cases["POST /"].find("failure")
    assert failure is not None and failure.get("type") == "HTTP-011 (warning)"


def test_junit_shows_what_the_app_raised_in_its_request() -> None:
    """An app's exception is in its request's case (as the text and JSON reports have it), as
    error output: no failure, since the exit code does not count it either."""
    report = _report()
    report.crashes.append(
        {"request": "lifespan", "type": "RuntimeError", "message": "boom", "where": "a.py:9"}
    )
    suite = ET.fromstring(render_junit(report))
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    err = cases["lifespan"].find("system-err")
    assert err is not None and err.text == "app raised RuntimeError: boom at a.py:9"
    assert cases["lifespan"].find("failure") is None and suite.get("failures") == "1"
    assert cases["GET /"].find("system-err") is None


def test_text_lists_findings_then_verdict() -> None:
    """Each finding shows rule, severity, request, message, location and hint."""
    text = render_text(_report())
    lines = text.splitlines()
    assert lines[0] == "HTTP-001 error   GET /: body before start"
    assert lines[1] == "    at a.py:3" and lines[2] == "    hint: Send start."
    assert lines[-1] == "myapp:app (asgi): 2 violation(s): 1 error(s), 1 warning(s) in 3 requests"
    assert set(FORMATS) == {"text", "json", "junit"}


def test_text_groups_the_same_finding_across_requests() -> None:
    """One block per distinct finding, listing every request it happened on."""
    finding = Finding("WSGI-005", "error", "bad status", "Fix it.", "GET /", "a.py:3")
    report = CheckReport(
        app="a:app",
        interface="wsgi",
        findings=[finding, Finding(*[*_fields(finding)[:4], "POST /", "a.py:3"])],
        requests=["GET /", "POST /"],
    )
    lines = render_text(report).splitlines()
    assert lines[:3] == [
        "WSGI-005 error   GET /, POST /: bad status",
        "    at a.py:3",
        "    hint: Fix it.",
    ]
    assert lines[3] == "a:app (wsgi): 2 violation(s): 2 error(s), 0 warning(s) in 2 requests"


def test_app_exceptions_are_listed_with_the_verdict() -> None:
    """A probe where the app raised shows up in text and JSON; the tracer's own place does not."""
    import tracer.shim

    shim_file = tracer.shim.__file__
    events = [
        Event(1, 0, K.ERROR, 1, data={"type": "TypeError", "message": "no", "where": shim_file}),
        Event(2, 5, K.ERROR, 2, data={"type": "KeyError", "message": "'x'", "where": "a.py:9"}),
    ]
    crashes = crashes_from_events(events, "GET /", fallback="a.py:1")
    assert [c["where"] for c in crashes] == ["a.py:1", "a.py:9"]
    report = CheckReport(app="a:app", interface="wsgi", requests=["GET /"], crashes=crashes[:1])
    assert render_text(report).splitlines() == [
        "app raised GET /: TypeError: no",
        "    at a.py:1",
        "a:app (wsgi): no violations in 1 requests; the app raised in 1 of them",
    ]
    assert json.loads(render_json(report))["app_errors"] == [
        {"request": "GET /", "type": "TypeError", "message": "no", "where": "a.py:1"}
    ]
    assert not report.failed()


def _fields(finding: Finding) -> list[str | None]:
    return [
        finding.rule,
        finding.severity,
        finding.message,
        finding.hint,
        finding.request,
        finding.location,
    ]


def test_location_falls_back_to_the_step_then_the_app() -> None:
    """Without a location in the event: the enclosing coroutine step's, else the fallback."""
    events = [
        Event(1, 100, K.SCHED_STEP, 7, dur=50, data={"location": "app.py:9"}),
        Event(2, 120, K.VIOLATION, 7, data={"rule": "HTTP-002", "message": "twice"}),
        Event(3, 500, K.VIOLATION, 8, data={"rule": "HTTP-004", "message": "none"}),
    ]
    found = findings_from_events(events, "GET /", fallback="app.py:1")
    assert [(f.location, f.severity) for f in found] == [
        ("app.py:9", "error"),
        ("app.py:1", "error"),
    ]
    assert found[0].hint  # from the registry when the event carries none


def test_app_location_of_functions_and_callables() -> None:
    """Functions give their def line; callable instances their __call__'s (paths named as
    every location is: relative to the working directory here)."""

    class App:
        def __call__(self, environ: object, start_response: object) -> list[bytes]:
            return []

    code = test_app_location_of_functions_and_callables.__code__
    assert app_location(test_app_location_of_functions_and_callables) == (
        f"{display_path(code.co_filename)}:{code.co_firstlineno}"
    )
    assert not os.path.isabs(display_path(code.co_filename))
    location = app_location(App())
    assert location is not None and location.startswith(display_path(__file__))
    assert app_location(42) is None


def test_app_location_of_a_decorated_app_is_the_users_function() -> None:
    """A decorator that keeps ``__wrapped__`` (functools.wraps) points at the app itself."""
    import functools

    def logged(app: Any) -> Any:
        @functools.wraps(app)
        def inner(*args: Any) -> Any:
            return app(*args)

        return inner

    def app(environ: object, start_response: object) -> list[bytes]:
        return []

    code = app.__code__
    assert app_location(logged(app)) == f"{display_path(code.co_filename)}:{code.co_firstlineno}"

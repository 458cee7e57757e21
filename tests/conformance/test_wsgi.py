"""``WsgiChecker``: each WSGI rule on a breaking and a passing app, and how findings are reported."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest
from conformance_cases import TEXT, WSGI_CASES, options_for, run_wsgi_hooks, wsgi_app

from tracer.conformance import WsgiChecker
from tracer.sourcepath import display_path


@pytest.mark.parametrize("rule_id", sorted(WSGI_CASES))
def test_rule_breaking_and_passing(rule_id: str) -> None:
    """The breaking app is reported under the rule; its counterpart is reported for nothing."""
    case = WSGI_CASES[rule_id]
    assert rule_id in run_wsgi_hooks(case.bad, options_for(case, "bad"))
    assert run_wsgi_hooks(case.good, options_for(case, "good")) == []


class Collect:
    """A ``report`` that keeps (rule, message, data)."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str, dict[str, Any]]] = []

    def __call__(self, rule_id: str, message: str, **data: Any) -> None:
        self.found.append((rule_id, message, data))


def test_report_carries_message_severity_hint_and_location() -> None:
    """A finding names the detail seen, its severity and hint, and the caller's file:line."""
    report = Collect()
    checker = WsgiChecker({"REQUEST_METHOD": "GET"}, report)
    line = sys._getframe().f_lineno + 1
    checker.start_response("200", TEXT, None)  # this line is the location
    ((rule_id, message, data),) = report.found
    assert rule_id == "WSGI-005"
    assert message == "status is not of the form '<3-digit code> <reason>' in latin-1: got '200'"
    assert data["severity"] == "error" and data["hint"].startswith("Use a status line")
    # Named as every location of a recording: relative to the working directory.
    assert data["location"] == f"{display_path(__file__)}:{line}"


def test_each_rule_is_reported_once_per_request() -> None:
    """A hundred str chunks are one finding, not a hundred."""
    report = Collect()
    checker = WsgiChecker({"REQUEST_METHOD": "GET"}, report)
    checker.start_response("200 OK", TEXT, None)
    for _ in range(100):
        checker.body_item("chunk")
    checker.finish(close_called=True, error=None)
    assert [rule_id for rule_id, _, _ in report.found] == ["WSGI-014"]


def test_a_generator_of_headers_is_not_consumed() -> None:
    """Headers that are not a list are flagged but never iterated (the server still needs them)."""
    headers = (pair for pair in TEXT)
    report = Collect()
    WsgiChecker({}, report).start_response("200 OK", headers, None)
    assert [r for r, _, _ in report.found] == ["WSGI-007"]
    assert list(headers) == TEXT


def test_an_app_error_silences_end_of_request_rules() -> None:
    """When the app raised, missing start_response or short bodies are not piled on."""
    report = Collect()
    checker = WsgiChecker({}, report)
    checker.finish(close_called=False, error=ValueError("boom"))
    assert report.found == []


def test_head_and_no_body_statuses_skip_the_length_check() -> None:
    """HEAD responses and 204/304 declare a length without sending it."""
    for method, status in (("HEAD", "200 OK"), ("GET", "304 Not Modified")):
        report = Collect()
        checker = WsgiChecker({"REQUEST_METHOD": method}, report)
        checker.start_response(status, [("Content-Length", "10"), *TEXT], None)
        checker.finish(close_called=True, error=None)
        assert report.found == []


def test_chunked_input_may_be_read_to_the_end() -> None:
    """With wsgi.input_terminated the server ends the stream: reading it all is fine."""
    report = Collect()
    checker = WsgiChecker({"wsgi.input_terminated": True, "wsgi.input": io.BytesIO()}, report)
    checker.input_read(4096)
    assert report.found == []
    checker = WsgiChecker({"CONTENT_LENGTH": "10"}, report)
    checker.input_read(10)
    checker.input_read(11)
    assert [r for r, _, _ in report.found] == ["WSGI-023"]


def test_nonstandard_reason_phrases_are_fine() -> None:
    """Any reason phrase goes; the code must be three digits in 100-599."""
    for status, ok in (
        ("200 Fine", True),
        ("599 Custom", True),
        ("600 Nope", False),
        ("20 OK", False),
    ):
        found = run_wsgi_hooks(wsgi_app(status=status), {})
        assert (found == []) is ok, status


def test_a_rule_judged_at_the_end_is_recorded_no_later_than_request_end() -> None:
    """WSGI-001 (start_response never called) is found as the request finishes: its event
    is dated at the request's end, so the recording does not show it after request.end."""
    from tracer import events as K
    from tracer.recorder import Recorder
    from tracer.shim.wsgi import WsgiShim

    rec = Recorder()
    shim = WsgiShim(lambda environ, start_response: [b"forgot"], recorder=rec)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.input": io.BytesIO()}
    body = shim(environ, lambda *args: None)
    list(body)
    body.close()
    events = rec.recording().events
    kinds = [e.kind for e in events]
    assert kinds[-2:] == [K.VIOLATION, K.REQUEST_END]
    violation, end = events[-2:]
    assert violation.data["rule"] == "WSGI-001" and violation.t <= end.t

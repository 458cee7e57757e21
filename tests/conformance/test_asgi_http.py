"""The http state machine: each rule on a breaking and a passing app, and its edge cases."""

from __future__ import annotations

from typing import Any

import pytest
from conformance_cases import BODY, HTTP_CASES, START, asgi_scope, options_for, run_asgi_hooks

from tracer.conformance import AsgiChecker
from tracer.conformance.asgi_http import HttpChecker


@pytest.mark.parametrize("rule_id", sorted(HTTP_CASES))
def test_rule_breaking_and_passing(rule_id: str) -> None:
    """The breaking app is reported under the rule; its counterpart is reported for nothing."""
    case = HTTP_CASES[rule_id]
    assert rule_id in run_asgi_hooks(case.bad, "http", options_for(case, "bad"))
    assert run_asgi_hooks(case.good, "http", options_for(case, "good")) == []


def _checker(**scope: Any) -> tuple[AsgiChecker, list[str]]:
    found: list[str] = []
    return AsgiChecker(asgi_scope("http", **scope), lambda r, m, **d: found.append(r)), found


def test_the_scope_type_picks_the_state_machine() -> None:
    """AsgiChecker(scope, report) is the http checker for http scopes; unknown types get the base."""
    checker, _ = _checker()
    assert type(checker) is HttpChecker
    other = AsgiChecker({"type": "custom"}, lambda *a, **k: None)
    assert type(other) is AsgiChecker
    other.send({"type": "anything"})  # only the message shape is checked


def test_no_response_after_a_client_disconnect_is_fine() -> None:
    """An app that stops because the client left owes nobody a response."""
    checker, found = _checker()
    checker.receive({"type": "http.disconnect"})
    checker.finish(error=None)
    assert found == []


def test_a_streamed_body_is_counted_across_chunks() -> None:
    """content-length is compared with the sum of every chunk, at the last one."""
    checker, found = _checker()
    checker.send({**START, "headers": [(b"content-length", b"4")]})
    checker.send({**BODY, "body": b"ab", "more_body": True})
    assert found == []
    checker.send({**BODY, "body": b"cde"})
    assert found == ["HTTP-016"]


def test_head_responses_skip_the_length_check() -> None:
    """A HEAD response declares the GET length and sends nothing."""
    checker, found = _checker(method="HEAD")
    checker.send({**START, "headers": [(b"content-length", b"100")]})
    checker.send({**BODY, "body": b""})
    checker.finish(error=None)
    assert found == []


def test_pathsend_completes_the_response_when_advertised() -> None:
    """http.response.pathsend ends the response: nothing more is owed."""
    checker, found = _checker(extensions={"http.response.pathsend": {}})
    checker.send(START)
    checker.send({"type": "http.response.pathsend", "path": "/etc/hostname"})
    checker.finish(error=None)
    assert found == []


def test_an_app_error_is_not_also_a_missing_response() -> None:
    """The error event tells the story; HTTP-004 would only repeat it."""
    checker, found = _checker()
    checker.finish(error=RuntimeError("boom"))
    assert found == []


def test_426_may_name_the_upgrade() -> None:
    """Upgrade is hop-by-hop, but a 426 Upgrade Required must say what to upgrade to."""
    checker, found = _checker()
    checker.send({**START, "status": 426, "headers": [(b"upgrade", b"websocket")]})
    checker.send(BODY)
    assert found == []
    checker, found = _checker()
    checker.send({**START, "headers": [(b"upgrade", b"websocket")]})
    assert found == ["HTTP-013"]


def test_a_start_after_a_premature_body_is_not_sent_twice() -> None:
    """Body before start is HTTP-001 alone: the app's first (late) start is not HTTP-002, and
    its content-length judges the body sent after it."""
    checker, found = _checker()
    checker.send({**BODY, "body": b"early", "more_body": True})
    checker.send({**START, "headers": [(b"content-length", b"2")]})
    checker.send({**BODY, "body": b"ok"})
    checker.finish(error=None)
    assert found == ["HTTP-001"]


def test_a_real_second_start_after_a_premature_body_is_still_twice() -> None:
    """Once the late start has come, another start is HTTP-002 as usual."""
    checker, found = _checker()
    checker.send({**BODY, "body": b"", "more_body": True})
    checker.send(START)
    checker.send(START)
    checker.send({**BODY, "body": b"ok"})
    assert found == ["HTTP-001", "HTTP-002"]


def test_a_complete_premature_body_ends_no_response() -> None:
    """A premature body that says it is the last ends nothing, for no response had started: the
    start after it is the app's first (not HTTP-003, "after the response completed"), and the
    body after that is judged against its Content-Length."""
    checker, found = _checker()
    checker.send({**BODY, "body": b"all"})
    checker.send({**START, "headers": [(b"content-length", b"2")]})
    checker.send({**BODY, "body": b"ok"})
    checker.finish(error=None)
    assert found == ["HTTP-001"]


def test_a_premature_body_alone_is_only_http_001() -> None:
    """An app that sends only a body (no start ever) broke one rule, said once."""
    checker, found = _checker()
    checker.send({**BODY, "body": b"x"})
    checker.send({**BODY, "body": b"y"})
    checker.finish(error=None)
    assert found == ["HTTP-001"]


def test_a_premature_body_still_has_its_form_checked() -> None:
    """Before any start, a str body is HTTP-014 besides HTTP-001."""
    checker, found = _checker()
    checker.send({**BODY, "body": "text"})
    assert found == ["HTTP-001", "HTTP-014"]


def test_asgi_http_bad_through_check_has_no_invented_second_start() -> None:
    """``trace check`` of check_apps.asgi_http_bad: HTTP-001 per request, and nothing else."""
    import check_apps

    from tracer.conformance.driver import check_app

    report = check_app(check_apps.asgi_http_bad, paths=["/"])
    assert {f.rule for f in report.findings} == {"HTTP-001"}
    assert [f.request for f in report.findings] == [
        "GET /",
        "HEAD /",
        "POST /",
        "POST / (chunked)",
    ]

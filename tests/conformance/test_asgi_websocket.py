"""The websocket state machine: each rule on a breaking and a passing app, and close codes."""

from __future__ import annotations

import pytest
from conformance_cases import WEBSOCKET_CASES, asgi_scope, options_for, run_asgi_hooks

from tracer.conformance import AsgiChecker
from tracer.conformance.asgi_websocket import valid_close_code


@pytest.mark.parametrize("rule_id", sorted(WEBSOCKET_CASES))
def test_rule_breaking_and_passing(rule_id: str) -> None:
    """The breaking app is reported under the rule; its counterpart is reported for nothing."""
    case = WEBSOCKET_CASES[rule_id]
    assert rule_id in run_asgi_hooks(case.bad, "websocket", options_for(case, "bad"))
    assert run_asgi_hooks(case.good, "websocket", options_for(case, "good")) == []


@pytest.mark.parametrize(
    "code,ok",
    [
        (1000, True),
        (1001, True),
        (1003, True),
        (1004, False),
        (1005, False),
        (1006, False),
        (1007, True),
        (1014, True),
        (1015, False),
        (2999, False),
        (3000, True),
        (4999, True),
        (5000, False),
        (True, False),
        ("1000", False),
    ],
)
def test_close_codes(code: object, ok: bool) -> None:
    """RFC 6455 7.4: reserved codes (1004-1006, 1015) and unassigned ranges are refused."""
    assert valid_close_code(code) is ok


def test_send_after_the_client_left_is_flagged() -> None:
    """Once websocket.disconnect arrived, sending is an error (servers raise or drop it)."""
    found: list[str] = []
    checker = AsgiChecker(asgi_scope("websocket"), lambda r, m, **d: found.append(r))
    checker.receive({"type": "websocket.connect"})
    checker.send({"type": "websocket.accept"})
    checker.receive({"type": "websocket.disconnect", "code": 1001})
    checker.send({"type": "websocket.send", "text": "too late"})
    assert found == ["WS-003"]


def test_rejecting_the_handshake_with_close_is_fine() -> None:
    """websocket.close before accept is how an app says 403."""
    found: list[str] = []
    checker = AsgiChecker(asgi_scope("websocket"), lambda r, m, **d: found.append(r))
    checker.receive({"type": "websocket.connect"})
    checker.send({"type": "websocket.close", "code": 1008})
    checker.finish(error=None)
    assert found == []

"""The same breaking and passing apps, through ``tracer.instrument``: violations are events."""

from __future__ import annotations

import pytest
from conformance_cases import (
    ASGI_CASES,
    WSGI_CASES,
    options_for,
    run_asgi_hooks,
    run_wsgi_hooks,
)


@pytest.mark.parametrize("rule_id", sorted(WSGI_CASES))
def test_wsgi_rule_through_the_shim(rule_id: str) -> None:
    """A wrapped breaking WSGI app leaves a violation event of the rule; its counterpart none."""
    case = WSGI_CASES[rule_id]
    assert rule_id in run_wsgi_hooks(case.bad, options_for(case, "bad"), shim=True)
    assert run_wsgi_hooks(case.good, options_for(case, "good"), shim=True) == []


@pytest.mark.parametrize("rule_id", sorted(ASGI_CASES))
def test_asgi_rule_through_the_shim(rule_id: str) -> None:
    """A wrapped breaking ASGI app leaves a violation event of the rule; its counterpart none."""
    scope_type, case = ASGI_CASES[rule_id]
    assert rule_id in run_asgi_hooks(case.bad, scope_type, options_for(case, "bad"), shim=True)
    assert run_asgi_hooks(case.good, scope_type, options_for(case, "good"), shim=True) == []

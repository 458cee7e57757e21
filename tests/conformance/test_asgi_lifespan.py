"""The lifespan state machine: each rule on a breaking and a passing app, and "unsupported"."""

from __future__ import annotations

import pytest
from conformance_cases import LIFESPAN_CASES, options_for, run_asgi_hooks

from tracer.conformance import AsgiChecker


@pytest.mark.parametrize("rule_id", sorted(LIFESPAN_CASES))
def test_rule_breaking_and_passing(rule_id: str) -> None:
    """The breaking app is reported under the rule; its counterpart is reported for nothing."""
    case = LIFESPAN_CASES[rule_id]
    assert rule_id in run_asgi_hooks(case.bad, "lifespan", options_for(case, "bad"))
    assert run_asgi_hooks(case.good, "lifespan", options_for(case, "good")) == []


def test_raising_before_startup_means_unsupported() -> None:
    """The spec's way to decline lifespan (raise at once) is not a violation."""
    found: list[str] = []
    checker = AsgiChecker({"type": "lifespan"}, lambda r, m, **d: found.append(r))
    checker.finish(error=ValueError("unsupported scope type"))
    checker2 = AsgiChecker({"type": "lifespan"}, lambda r, m, **d: found.append(r))
    checker2.receive({"type": "lifespan.startup"})
    checker2.finish(error=ValueError("unsupported scope type"))
    assert found == []


def test_cancellation_at_shutdown_is_not_an_app_error() -> None:
    """A server cancelling the lifespan task after startup is not LS-008."""
    import asyncio

    found: list[str] = []
    checker = AsgiChecker({"type": "lifespan"}, lambda r, m, **d: found.append(r))
    checker.receive({"type": "lifespan.startup"})
    checker.send({"type": "lifespan.startup.complete"})
    checker.finish(error=asyncio.CancelledError())
    assert found == []

"""Every rule has a breaking app and a passing one; the registry and docs/rules.md agree."""

from __future__ import annotations

from pathlib import Path

import pytest
from conformance_cases import (
    ASGI_CASES,
    WSGI_CASES,
    options_for,
    run_asgi_hooks,
    run_wsgi_hooks,
)

from tracer.conformance import RULES
from tracer.conformance.rules import ERROR, INTERFACES, WARNING
from tracer.conformance.rulesdoc import render

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("rule_id", sorted(WSGI_CASES))
def test_wsgi_rule_breaking_and_passing(rule_id: str) -> None:
    """The breaking app is reported under the rule; its counterpart is reported for nothing."""
    case = WSGI_CASES[rule_id]
    assert rule_id in run_wsgi_hooks(case.bad, options_for(case, "bad"))
    assert run_wsgi_hooks(case.good, options_for(case, "good")) == []


@pytest.mark.parametrize("rule_id", sorted(ASGI_CASES))
def test_asgi_rule_breaking_and_passing(rule_id: str) -> None:
    """The breaking app is reported under the rule; its counterpart is reported for nothing."""
    scope_type, case = ASGI_CASES[rule_id]
    assert rule_id in run_asgi_hooks(case.bad, scope_type, options_for(case, "bad"))
    assert run_asgi_hooks(case.good, scope_type, options_for(case, "good")) == []


def test_every_rule_has_cases() -> None:
    """No rule goes untested: each checker rule has a case (CHK-* are the driver's, tested there)."""
    covered = set(WSGI_CASES) | set(ASGI_CASES)
    missing = {r for r in RULES if r not in covered and not r.startswith("CHK-")}
    assert not missing
    assert len(RULES) >= 40


def test_rules_are_well_formed() -> None:
    """Ids are unique and prefixed by interface; severities and interfaces are known values."""
    for rule_id, rule in RULES.items():
        assert rule.id == rule_id
        assert rule.severity in (ERROR, WARNING)
        assert rule.interface in INTERFACES
        assert rule.message and rule.hint and "\n" not in rule.message + rule.hint


def test_docs_list_every_rule() -> None:
    """docs/rules.md is the rendering of the registry (regenerate: python -m tracer.conformance.rulesdoc)."""
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert text == render()
    for rule_id in RULES:
        assert f"`{rule_id}`" in text

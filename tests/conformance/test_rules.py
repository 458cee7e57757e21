"""The rule registry: well-formed, every rule covered by a case, and docs/rules.md in step."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conformance_cases import ASGI_CASES, WSGI_CASES

from tracer.conformance import RULES, rule
from tracer.conformance.rules import ERROR, INTERFACES, WARNING
from tracer.conformance.rulesdoc import render

ROOT = Path(__file__).resolve().parents[2]
LATE_CALL_RULES = {"WSGI-026", "ASGI-003"}
"""A callable used after its request ended: the shims' own, tested in tests/shim/test_late_calls.py."""


def test_every_rule_has_cases() -> None:
    """No rule goes untested: each checker rule has a case (CHK-* are the driver's, tested there;
    the late-call rules the shims', tested with them)."""
    covered = set(WSGI_CASES) | set(ASGI_CASES) | LATE_CALL_RULES
    missing = {r for r in RULES if r not in covered and not r.startswith("CHK-")}
    assert not missing
    assert len(RULES) >= 40


def test_rules_are_well_formed() -> None:
    """Ids are unique and prefixed by interface; severities and interfaces are known values."""
    for rule_id, entry in RULES.items():
        assert entry.id == rule_id
        assert entry.severity in (ERROR, WARNING)
        assert entry.interface in INTERFACES
        assert entry.message and entry.hint and "\n" not in entry.message + entry.hint


def test_docs_list_every_rule() -> None:
    """docs/rules.md is the rendering of the registry (regenerate: python -m tracer.conformance.rulesdoc)."""
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert text == render()
    for rule_id in RULES:
        assert f"`{rule_id}`" in text


def test_rule_lookup() -> None:
    """``rule(id)`` returns the frozen rule; unknown ids raise KeyError."""
    found = rule("WSGI-002")
    assert found.severity == ERROR and found.interface == "wsgi"
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.severity = WARNING  # type: ignore[misc]
    with pytest.raises(KeyError):
        rule("NOPE-001")


def test_wsgi_023_says_where_it_can_fire() -> None:
    """WSGI-023 counts the bytes reads return, and the servers ``trace run`` drives stop
    wsgi.input at CONTENT_LENGTH: the rule says it is seen by ``trace check`` only."""
    hint = RULES["WSGI-023"].hint
    assert "only trace check shows it" in hint and "trace run cannot" in hint

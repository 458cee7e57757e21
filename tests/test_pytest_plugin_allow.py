"""The pytest plugin's ``allow``: a rule id that does not exist is a usage error naming the
marker and the id, with the nearest rule id when there is one (a typo would otherwise allow
nothing, silently)."""

from __future__ import annotations

import pytest

from tracer.errors import UsageError
from tracer.pytest_plugin import GatewayTracer

pytest_plugins = ["pytester"]

_BLOCKED = ("cacheprovider", "textual-snapshot", "hypothesispytest", "syrupy", "benchmark")
"""Plugins left out of the nested runs (session state, and seconds of start-up each)."""

UNKNOWN_IDS = [
    pytest.param(
        'allow="HTTP-11"',
        "@pytest.mark.gateway_tracer(allow='HTTP-11'): 'HTTP-11' is not a rule id"
        " (did you mean HTTP-011?). The rule ids are listed in docs/rules.md.",
        id="digit-left-out",
    ),
    pytest.param(
        'allow=["HTTP-011", "ws-4"]',
        "@pytest.mark.gateway_tracer(allow=['HTTP-011', 'ws-4']): 'ws-4' is not a"
        " rule id (did you mean WS-004?). The rule ids are listed in docs/rules.md.",
        id="one-of-a-list",
    ),
    pytest.param(
        'allow=("NOPE",)',
        "@pytest.mark.gateway_tracer(allow=('NOPE',)): 'NOPE' is not a rule id."
        " The rule ids are listed in docs/rules.md.",
        id="nothing-near",
    ),
]


@pytest.mark.parametrize("arguments,message", UNKNOWN_IDS)
def test_an_unknown_rule_id_is_a_usage_error(
    pytester: pytest.Pytester, arguments: str, message: str
) -> None:
    """The test errors before its body runs, the line naming the marker, the id and the
    nearest rule id."""
    pytester.makepyfile(
        f"""
        import pytest

        ran = []

        @pytest.mark.gateway_tracer({arguments})
        def test_marked(gateway_tracer):
            ran.append(1)
        """
    )
    result = pytester.runpytest(*[f"-pno:{name}" for name in _BLOCKED])
    result.assert_outcomes(errors=1)
    assert message in result.stdout.str()  # word for word (fnmatch would read [ ] as a set)


def test_known_rule_ids_are_taken(pytester: pytest.Pytester) -> None:
    """Rule ids as docs/rules.md spells them, one or several, are allowed as before."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.gateway_tracer(allow=["HTTP-011", "WS-004", "WSGI-022", "CHK-001"])
        def test_several(gateway_tracer):
            assert gateway_tracer.allow == {"HTTP-011", "WS-004", "WSGI-022", "CHK-001"}

        @pytest.mark.gateway_tracer(allow="LS-001")
        def test_one(gateway_tracer):
            assert gateway_tracer.allow == {"LS-001"}
        """
    )
    pytester.runpytest(*[f"-pno:{name}" for name in _BLOCKED]).assert_outcomes(passed=2)


def test_gateway_tracer_made_directly_refuses_unknown_ids_too() -> None:
    """``GatewayTracer(allow=...)`` outside the fixture: the project's ``UsageError``."""
    with pytest.raises(UsageError) as raised:
        GatewayTracer(allow=["HTTP-011", "http011x"])
    assert str(raised.value) == (
        "GatewayTracer(allow=...): 'http011x' is not a rule id (did you mean HTTP-011?)."
    )
    assert GatewayTracer(allow="HTTP-011").allow == {"HTTP-011"}

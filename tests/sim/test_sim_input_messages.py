"""Workload and ``SimConfig`` refusals say exactly what is wrong, and accept what they say."""

from __future__ import annotations

import pytest

from sim import SimConfig, simulate
from sim.dist import Fixed
from sim.workload import inline_workload, workload_from_dict
from tracer.errors import UsageError

IO = [{"io": "1ms"}]


@pytest.mark.parametrize(
    "routes,says",
    [
        (
            [{"name": "page", "phases": IO}, {"name": "api", "phases": IO}]
            + [{"name": "page", "phases": IO}],
            'test: routes 1 and 3 share the name "page"; give each route its own name.',
        ),
        # A route without a name is named by its number: "2" then meets the second route.
        (
            [{"name": "2", "phases": IO}, {"phases": IO}],
            'test: routes 1 and 2 share the name "2"; give each route its own name.',
        ),
    ],
)
def test_routes_sharing_a_name_are_named(routes: list[dict[str, object]], says: str) -> None:
    """Two routes with one name: the message says which name, and which routes."""
    with pytest.raises(UsageError) as info:
        workload_from_dict({"route": routes}, where="test")
    assert str(info.value) == says


@pytest.mark.parametrize(
    "route,says",
    [
        (
            {"name": "r", "reads_body": "no", "phases": IO},
            "test, route 1 (\"r\"): reads_body must be true or false, not 'no'.",
        ),
        (
            {"name": "w", "reads_body": False, "phases": [{"ws": {"messages": 1}}]},
            'test, route 1 ("w"): reads_body is about an HTTP request\'s body and a ws route '
            "has none (its app receives websocket.connect and the messages); drop reads_body.",
        ),
    ],
)
def test_reads_body_is_checked(route: dict[str, object], says: str) -> None:
    """reads_body is true or false, and only for an HTTP route."""
    with pytest.raises(UsageError) as info:
        workload_from_dict({"route": [route]}, where="test")
    assert str(info.value) == says


def test_a_block_threshold_of_zero_or_less_is_refused_as_the_cli_refuses_it() -> None:
    """One rule with --block-threshold-ms and the shim's block_threshold_ms: above 0. The
    library refuses 0 (it used to take it) and a negative one, naming the option."""
    for ns, shown in ((0, "0"), (-1_000_000, "-1")):
        with pytest.raises(UsageError) as info:
            SimConfig(model="loop", block_threshold_ns=ns).check()
        assert str(info.value) == (
            f"The block threshold (--block-threshold-ms) must be above 0, not {shown} ms; try 10."
        )
    cpu = inline_workload(cpu=Fixed(1_000_000))
    config = SimConfig(model="loop", requests=3, workload=cpu, block_threshold_ns=1)
    assert simulate(config).summary["loop_blocked_ms"] == 3.0  # each 1 ms step held the loop


def test_a_switch_interval_must_be_above_zero() -> None:
    """The GIL's switch interval is a time slice: 0 is refused, with a message that says so."""
    with pytest.raises(UsageError) as info:
        SimConfig(switch_interval_ns=0).check()
    assert str(info.value) == "The GIL switch interval must be above 0 ns, not 0."

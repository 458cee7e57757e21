"""One rule says which status is a failure: ``tracer.events.is_server_error``. The summary
(``RequestSpan.failed``) and the replay's lanes (``tracer.phases``) both read it, so a request
counted as an error is the one whose lane carries an error mark, whatever its status."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tracer.events as K
from tracer import phases, summary
from tracer.events import Event
from tracer.summary import request_spans

ROOT = Path(__file__).resolve().parent.parent
MS = 1_000_000


def test_the_summary_hands_on_the_events_rule() -> None:
    """``tracer.summary.is_server_error`` (what ``tracer.loadgen`` imports) is the events'
    own function, not a copy of it."""
    assert summary.is_server_error is K.is_server_error
    assert "is_server_error" in summary.__all__ and "is_server_error" in K.__all__


@pytest.mark.parametrize("status", [None, 200, 404, 499, 500, 503, 600, "500", 500.0, True])
@pytest.mark.parametrize("answered_by", [K.REQUEST_END, K.CLIENT_RESPONSE])
def test_a_lane_is_marked_failed_exactly_when_the_summary_counts_an_error(
    status: object, answered_by: str
) -> None:
    """One request, ended by the app or answered to a network client with ``status``: its
    replay lane has an error mark if and only if the summary counts it failed."""
    events = [
        Event(0, 0, K.REQUEST_QUEUED, 1, data={"method": "GET", "path": "/"}),
        Event(1, MS, K.REQUEST_START, 1, data={"scope_type": "http"}),
    ]
    if answered_by == K.REQUEST_END:
        events.append(Event(2, 5 * MS, K.REQUEST_END, 1, data={"status": status, "error": None}))
    else:
        events.append(Event(2, 5 * MS, K.CLIENT_RESPONSE, 1, dur=MS, data={"status": status}))
    failed = request_spans(events)[1].failed
    marks = [s for s in phases.request_phases(events, 10 * MS) if s.phase == phases.ERROR]
    assert bool(marks) == failed
    if answered_by == K.CLIENT_RESPONSE:
        # A client's status that is no int reads as none at all: no response, a failure.
        expected = not isinstance(status, int) or status >= 500
    else:
        expected = status is None or (type(status) is int and status >= 500)
    assert failed == expected


@pytest.mark.parametrize(
    "module", ["phases", "summary", "request_span", "span_tally", "digest", "span_rows"]
)
def test_the_5xx_rule_is_spelled_only_in_tracer_events(module: str) -> None:
    """No module that judges a request's failure compares a status with 500 itself."""
    tree = ast.parse((ROOT / "tracer" / f"{module}.py").read_text(encoding="utf-8"))
    spelled = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare)
        and any(isinstance(c, ast.Constant) and c.value == 500 for c in node.comparators)
    ]
    assert spelled == [], f"tracer/{module}.py compares with 500 at lines {spelled}"

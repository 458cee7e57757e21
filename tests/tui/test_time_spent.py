"""The detail pane's "time spent": its parts add up to the latency it shows, for every request
of every demo's recordings (simulated, and the quick real runs)."""

from __future__ import annotations

import re
from functools import cache

import pytest

from tracer.demos import SCENARIOS, run_demo
from tracer.demos.runner import run_side
from tracer.recording import Recording
from tracer.summary import request_spans
from tracer.tui.detail import detail_text
from tracer.tui.labels import labels
from tracer.tui.lane import BLOCKED, QUEUED, RUNNING, SENDING, WAITING, Lane, Span
from tracer.tui.model import TimelineModel, build_model

PARTS = (QUEUED, RUNNING, BLOCKED, SENDING, WAITING)
PANE_ROWS = 300
"""Requests per recording whose pane is read (c10k has 20,000: the first are as telling)."""
_UNITS = {"µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_TIME = re.compile(r"0|([0-9.,]+) (µs|ms|s)")
_PART = "(0|[0-9.,]+ (?:µs|ms|s))"
"""A time as the pane writes it (``figures.duration``): ``0``, ``600.0 µs``, ``1.23 s``."""


def _ns(text: str) -> tuple[float, float]:
    """The time ``text`` says, in ns, and what its rounding can make of it: half a unit of its
    last digit (``12.3 ms``: 0.05 ms)."""
    match = _TIME.fullmatch(text)
    assert match, text
    if text == "0":
        return 0.0, 0.0
    digits, unit = match.group(1).replace(",", ""), _UNITS[match.group(2)]
    decimals = len(digits.partition(".")[2])
    return float(digits) * unit, unit * 10.0**-decimals / 2


@cache
def _simulated(name: str) -> list[Recording]:
    return run_demo(SCENARIOS[name], simulated=True).recordings


REAL = sorted(name for name, s in SCENARIOS.items() if any(side.real for side in s.sides))
"""The scenarios with a real run (c10k is simulated only)."""


def _check(recording: Recording) -> int:
    """Every finished request's pane: the latency, and parts that add up to it."""
    model = build_model(recording)
    en = labels("en")
    names = [en[key] for key in ("queued", "running", "blocked", "sending", "waiting_io")]
    parts_re = re.compile("  ".join(f"{re.escape(n)} {_PART}" for n in names))
    checked = 0
    for lane in model.by_request[:PANE_ROWS]:
        head, *rows = detail_text(model, lane, en).plain.splitlines()
        latency = re.search(f"{en['latency']} {_PART}", head)
        if latency is None:  # not over when the recording ended
            continue
        line = next(row for row in rows if row.startswith(en["phases"]))
        parts = parts_re.search(line)
        assert parts, line
        said = [_ns(part) for part in (*parts.groups(), latency.group(1))]
        total = sum(ns for ns, _ in said[:-1])
        # Each figure is rounded to its last digit: the sum may miss by their roundings.
        rounding = sum(error for _, error in said) + 1
        assert abs(total - said[-1][0]) <= rounding, (head, line)
        checked += 1
    _check_exactly(model)
    return checked


def _check_exactly(model: TimelineModel) -> None:
    """The parts in ns: they are the latency's stretch cut by phase, to the nanosecond."""
    from tracer.tui.detail import time_spent

    for lane in model.by_request:
        assert lane.req is not None
        span = request_spans(model.events_by_req[lane.req]).get(lane.req)
        if span is None or span.finished is None or span.arrived is None:
            continue
        parts = time_spent(lane, span.arrived, span.finished)
        assert set(parts) <= set(PARTS), (lane.label, parts)
        assert sum(parts.values()) == span.finished - span.arrived, (lane.label, parts)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_parts_add_up_to_the_latency_in_simulated_demos(name: str) -> None:
    """Simulated: deterministic, and every side is checked."""
    assert sum(_check(recording) for recording in _simulated(name)) > 0


@pytest.mark.parametrize("name", REAL)
def test_the_parts_add_up_to_the_latency_in_real_demos(name: str) -> None:
    """Real runs of the real sides (the quick ones: real apps through in-process servers)."""
    scenario = SCENARIOS[name]
    sides = [i for i, side in enumerate(scenario.sides) if side.real is not None]
    recordings = [run_side(scenario, i, simulated=False, quick=True) for i in sides]
    assert sum(_check(recording) for recording in recordings) > 0


def test_a_streamed_wsgi_body_is_time_sending_not_waiting_too() -> None:
    """450 ms of a WSGI thread sending its body in 9 timed writes: 450 ms sending, nothing
    waiting (it said "sending 450ms, waiting 450ms" for a 450 ms request)."""
    from tracer.tui.detail import time_spent

    ms = 1_000_000
    spans = [Span(0, 450 * ms, WAITING, 1)]  # the request's in-flight stretch
    spans.append(Span(0, 450 * ms, WAITING, 1, 0.0))  # its thread, off the CPU
    spans += [Span(i * 50 * ms, (i + 1) * 50 * ms, SENDING, 1) for i in range(9)]
    lane = Lane("req:1", "#1 /", "request", spans)
    assert time_spent(lane, 0, 450 * ms) == {SENDING: 450 * ms}
    # Overlaps resolve by the lane's own paint order; gaps are waiting; outside is left out.
    lane = Lane(
        "req:2",
        "#2 /",
        "request",
        [Span(0, 10, QUEUED, 2), Span(10, 40, RUNNING, 2), Span(20, 30, BLOCKED, 2)],
    )
    assert time_spent(lane, 5, 50) == {QUEUED: 5, RUNNING: 20, BLOCKED: 10, WAITING: 10}

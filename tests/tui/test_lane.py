"""Lanes: spans kept sorted, the visible range never misses a long span, span_at priorities."""

from __future__ import annotations

from tracer.tui.lane import BLOCKED, RUNNING, WAITING, Lane, Span


def test_spans_are_sorted_and_indexed() -> None:
    """Spans come out sorted by start; start/longest describe them."""
    lane = Lane("k", "k", "request", [Span(50, 60, RUNNING), Span(0, 100, WAITING)])
    assert [s.start for s in lane.spans] == [0, 50]
    assert lane.start == 0 and lane.longest == 100


def test_visible_range_includes_a_long_span_started_off_screen() -> None:
    """A span that began before the window and runs through it is in the visible range."""
    lane = Lane(
        "k",
        "k",
        "thread",
        [Span(0, 1_000, RUNNING)] + [Span(t, t + 1, RUNNING) for t in range(10, 900, 10)],
    )
    lo, hi = lane.visible_range(950, 990)
    assert lane.spans[0] in lane.spans[lo:hi]


def test_span_at_prefers_the_higher_phase() -> None:
    """Where spans overlap, span_at returns the higher phase; outside them, nothing."""
    lane = Lane("k", "k", "request", [Span(0, 100, WAITING), Span(40, 60, BLOCKED)])
    assert lane.span_at(50).phase == BLOCKED
    assert lane.span_at(10).phase == WAITING
    assert lane.span_at(500) is None

"""Painting lanes into cells: priorities, zoomed-out overviews, labels."""

from __future__ import annotations

from rich.cells import cell_len

from tracer.tui.lane import BLOCKED, ERROR, RUNNING, WAITING, Lane, Span
from tracer.tui.lane_strip import label_segment, lane_segments, paint


def test_highest_phase_wins_a_shared_cell() -> None:
    """An instant error and a 1 ns blocked step still show when a cell spans much more."""
    lane = Lane(
        "x",
        "x",
        "request",
        [Span(0, 1000, WAITING, 1), Span(500, 500, ERROR, 1), Span(2000, 2001, BLOCKED, 1)],
    )
    codes, owners, _ = paint(lane, 0, 1000, 4)
    assert codes == [ERROR, WAITING, BLOCKED, 0]
    assert owners[:3] == [1, 1, 1]


def test_dense_lane_is_drawn_from_its_overview() -> None:
    """A lane with far more spans than cells uses the overview and still shows a blocked step."""
    spans = [Span(i * 100, i * 100 + 50, RUNNING, i) for i in range(20_000)]
    spans.append(Span(1_000_000, 1_000_040, BLOCKED, 7))
    lane = Lane("loop", "loop", "loop", spans)
    codes, _, _ = paint(lane, 0, 20_000, 100)
    assert lane.overview is not None
    assert codes[1_000_000 // 20_000] == BLOCKED
    assert codes.count(RUNNING) == 99


def test_worker_lane_names_the_request() -> None:
    """Worker lanes write the request id in a span wide enough to hold it."""
    lane = Lane("t", "t", "thread", [Span(0, 9, RUNNING, 42)])
    text = "".join(s.text for s in lane_segments(lane, 0, 1, 12, worker=True))
    assert text.startswith(" 42 ") and len(text) == 12


def test_cpu_share_draws_a_bar_height() -> None:
    """A thread span at 50% CPU is a half-height bar; at 0% a floor line."""
    half = Lane("a", "a", "request", [Span(0, 9, RUNNING, 1, 0.5)])
    idle = Lane("b", "b", "request", [Span(0, 9, WAITING, 1, 0.0)])
    assert "".join(s.text for s in lane_segments(half, 0, 1, 4)) == "▄▄▄▄"
    assert "".join(s.text for s in lane_segments(idle, 0, 1, 4)) == "────"


def test_labels_are_cut_to_cells_even_in_chinese() -> None:
    """Labels take exactly their width in terminal cells, CJK included."""
    for text in ("#12 /a/very/long/path/indeed", "#3 /订单/详情/很长的路径", "#1"):
        assert cell_len(label_segment(text, 16).text) == 16

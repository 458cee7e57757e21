"""Painting lanes into cells: priorities, zoomed-out overviews, labels."""

from __future__ import annotations

from rich.cells import cell_len

from tracer.tui.lane import BLOCKED, ERROR, NONE, QUEUED, RUNNING, SENDING, WAITING, Lane, Span
from tracer.tui.lane_strip import flatten, label_segment, lane_segments, paint


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


def _streaming_lane(steps: int = 40, blocked_at: int | None = None) -> Lane:
    """A request waiting 1000 ns between 10 ns steps and 5 ns sends (a stream that awaits)."""
    spans = [Span(0, 100, QUEUED, 1), Span(100, steps * 1000, WAITING, 1)]
    for i in range(steps):
        t = 100 + i * 1000
        phase = BLOCKED if i == blocked_at else RUNNING
        spans += [Span(t, t + 10, phase, 1), Span(t + 10, t + 15, SENDING, 1)]
    return Lane("req:1", "#1", "request", spans)


def test_a_request_that_mostly_waits_reads_as_waiting_when_zoomed_out() -> None:
    """Cells of 4000 ns, each holding four 10 ns steps and sends in waiting: waiting, not
    running; zoomed in to 2 ns a cell, the steps and sends show as they are."""
    lane = _streaming_lane(steps=10)
    codes, owners, _ = paint(lane, 0, 1000, 10)
    assert codes == [WAITING] * 10 and owners == [1] * 10
    zoomed, _, _ = paint(lane, 1090, 2, 14)
    assert zoomed == [WAITING] * 5 + [RUNNING] * 5 + [SENDING] * 3 + [WAITING]


def test_a_blocked_step_stays_visible_however_short() -> None:
    """One 10 ns step that held the loop still paints its 4000 ns cell as blocked; an error instant
    too; a lane touching a cell with only an instant is not blank there."""
    lane = _streaming_lane(blocked_at=17)
    codes, _, _ = paint(lane, 0, 4000, 10)
    assert codes.count(BLOCKED) == 1 and codes[(100 + 17 * 1000) // 4000] == BLOCKED
    assert set(codes) == {WAITING, BLOCKED}
    instant = Lane("e", "e", "request", [Span(500, 500, ERROR, 1), Span(900, 900, RUNNING, 2)])
    assert paint(instant, 0, 1000, 2)[0] == [ERROR, NONE]
    assert paint(Lane("r", "r", "request", [Span(5, 5, RUNNING, 2)]), 0, 10, 1)[0] == [RUNNING]


def test_the_phase_covering_most_of_a_cell_wins_it() -> None:
    """Running 60% of a cell beats waiting 40%; sending 30% loses to waiting 70%."""
    busy = Lane("a", "a", "request", [Span(0, 1000, WAITING, 1), Span(0, 600, RUNNING, 1)])
    idle = Lane("b", "b", "request", [Span(0, 999, WAITING, 1), Span(100, 400, SENDING, 1)])
    assert paint(busy, 0, 1000, 1)[0] == [RUNNING]
    assert paint(idle, 0, 1000, 1)[0] == [WAITING]


def test_flatten_keeps_the_top_phase_without_overlaps() -> None:
    """Overlapping spans become the top phase at each instant, alike neighbours merged."""
    lane = Lane(
        "a",
        "a",
        "request",
        [Span(0, 100, WAITING, 1), Span(10, 20, RUNNING, 1), Span(20, 30, RUNNING, 1)],
    )
    assert [(s.start, s.end, s.phase) for s in flatten(lane)] == [
        (0, 10, WAITING),
        (10, 30, RUNNING),
        (30, 100, WAITING),
    ]


def test_a_dense_mostly_waiting_lane_reads_as_waiting_from_its_overview() -> None:
    """The zoomed-out overview weighs phases by time too, and keeps a blocked step."""
    lane = _streaming_lane(steps=20_000, blocked_at=9_000)
    codes, _, _ = paint(lane, 0, 200_000, 100)
    assert lane.overview is not None
    assert codes.count(BLOCKED) == 1 and set(codes) == {WAITING, BLOCKED}


def test_long_labels_are_cut_in_the_middle_and_keep_what_tells_them_apart() -> None:
    """Two routes that differ at the end keep their ends: the request number and the path's
    first segment stay, the middle gives way to an ellipsis; in cells, CJK included."""
    from tracer.tui.timeline import label_width_for

    width = label_width_for(160)
    orders = label_segment("#2 /api/v1/users/12345/orders", width).text
    invoices = label_segment("#3 /api/v1/users/12345/invoices", width).text
    assert orders == "#2 /api/…/12345/orders".ljust(width)
    assert invoices.startswith("#3 /api/…") and invoices.rstrip().endswith("/invoices")
    for narrow in (16, 12):
        cut = label_segment("#2 /api/v1/users/12345/orders", narrow).text
        assert cut.startswith("#2 …") and cut.rstrip().endswith("ders"), cut
        assert cell_len(cut) == narrow
    wide = label_segment("#7 /订单/详情/很长的路径/尾巴/最后一段", 16).text
    assert cell_len(wide) == 16 and wide.startswith("#7 …") and wide.rstrip().endswith("最后一段")
    assert label_segment("worker-ThreadPoolExecutor-0_12", 16).text.rstrip().endswith("0_12")
    assert label_segment("#12 /short", 16).text == "#12 /short      "

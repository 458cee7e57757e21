"""The shared viewport: fit, zoom, pan, cursor and playback arithmetic."""

from __future__ import annotations

from tracer.recording import view_start
from tracer.tui.viewport import MIN_NS_PER_CELL, SPEEDS, Viewport


def test_fit_shows_the_whole_recording() -> None:
    """After fit, t=0 is at column 0 and the end is on screen."""
    vp = Viewport(t_max=1_000_000, width=101)
    vp.fit()
    assert vp.column(0) == 0
    assert 0 <= vp.column(vp.t_max) < vp.width


def test_zoom_keeps_the_anchor_in_place() -> None:
    """Zooming around a time keeps it at the same column; zooming has a floor."""
    vp = Viewport(t_max=10_000_000, width=100)
    vp.fit()
    vp.set_cursor(5_000_000)
    before = vp.column(vp.cursor)
    vp.zoom(4)
    assert abs(vp.column(vp.cursor) - before) <= 1
    for _ in range(60):
        vp.zoom(2)
    assert vp.ns_per_cell == MIN_NS_PER_CELL


def test_pan_is_clamped_to_the_recording() -> None:
    """Panning far away stops with either end of the recording at the window's edge (the
    end one cell in, where the cursor at the end is drawn), never past it."""
    vp = Viewport(t_max=1_000_000, width=100)
    vp.fit()
    vp.zoom(10)
    vp.pan(-10_000)
    assert vp.start == 0
    vp.pan(10_000_000)
    assert vp.end == vp.t_max + vp.ns_per_cell
    assert vp.column(vp.t_max) == vp.width - 1


def test_zooming_out_at_the_end_shows_no_time_before_the_start() -> None:
    """The cursor at the end of a zoomed-in view, then zoomed out twice: the window stays
    on the recording (it went half a screen before t=0: the axis read -2.0s, 0.0s, 2.0s)
    and the cursor stays in view; zooming out stops at fit."""
    vp = Viewport(t_max=2_000_000_000, width=100)
    vp.fit()
    for _ in range(4):
        vp.zoom(1.5)
    vp.set_cursor(vp.t_max)
    vp.zoom(1 / 1.5)
    vp.zoom(1 / 1.5)
    assert vp.start >= 0 and vp.end <= vp.t_max + vp.ns_per_cell
    assert vp.column(vp.cursor) == vp.width - 1
    for _ in range(10):
        vp.zoom(1 / 1.5)
    assert vp.at_fit and vp.start == 0


def test_the_window_never_leaves_the_recording() -> None:
    """Any mix of zooms, pans, cursor moves and playback, from either end: the left edge is
    never before the first event and the right edge never more than a cell past the end;
    a recording shorter than the window (a deep floor of 10 ns a cell) starts at its start."""
    import random

    rng = random.Random(7)
    for t_min, t_max, width in ((0, 2_000_000_000, 100), (360_000_000, 500_000_000, 61)):
        vp = Viewport(t_max=t_max, t_min=t_min, width=width)
        vp.fit()
        for _ in range(2_000):
            move = rng.randrange(5)
            if move == 0:
                vp.zoom(rng.choice((1.5, 1 / 1.5, 4, 1 / 4)))
            elif move == 1:
                vp.pan(rng.choice((-1, 1)) * rng.randrange(1, 200))
            elif move == 2:
                vp.set_cursor(rng.choice((t_min, t_max, rng.randrange(t_min, t_max))))
            elif move == 3:
                vp.playing = True
                vp.advance(rng.random())
            else:
                vp.fit()
            assert vp.start >= t_min, (move, vp)
            assert vp.end <= t_max + vp.ns_per_cell * (1 + 1e-9), (move, vp)
    tiny = Viewport(t_max=300, width=100)
    tiny.fit()
    tiny.zoom(1 / 4)
    tiny.pan(50)
    assert tiny.start == 0 and tiny.ns_per_cell == MIN_NS_PER_CELL


def test_speed_is_bounded() -> None:
    """Speeds step through 0.1x .. 10x and stop at the ends."""
    vp = Viewport()
    for _ in range(20):
        vp.faster()
    assert vp.speed == SPEEDS[-1] == 10.0
    for _ in range(20):
        vp.slower()
    assert vp.speed == SPEEDS[0] == 0.1


def test_advance_moves_a_playing_cursor_and_stops_at_the_end() -> None:
    """Playback moves the cursor by speed x window / 10 s, follows it, and stops at t_max."""
    vp = Viewport(t_max=1_000_000, width=100)
    vp.fit()
    assert not vp.advance(1.0)
    vp.playing = True
    assert vp.advance(1.0)
    assert vp.cursor == int(vp.ns_per_cell * vp.width / 10)
    while vp.advance(1.0):
        pass
    assert vp.cursor == vp.t_max and not vp.playing


def test_set_cursor_scrolls_it_into_view() -> None:
    """Moving the cursor off screen brings it back into the window."""
    vp = Viewport(t_max=10_000_000, width=100)
    vp.fit()
    vp.zoom(20)
    vp.set_cursor(9_000_000)
    assert vp.start <= vp.cursor < vp.end


def test_a_late_start_is_fitted_from_the_first_event() -> None:
    """A recording whose first event comes late (a real server starting) is fitted from that
    event, and the cursor stays within it; an early first event keeps t=0 on the left."""
    assert view_start(70_000, 150_000_000) == 0  # 0.05% of the run: fit from t=0
    assert view_start(360_000_000, 500_000_000) == 360_000_000
    vp = Viewport(t_max=500_000_000, t_min=360_000_000, width=141)
    vp.fit()
    assert vp.fitted and vp.column(360_000_000) == 0
    assert vp.column(vp.t_max) == vp.width - 1
    vp.set_cursor(0)
    assert vp.cursor == 360_000_000
    vp.zoom(2)
    vp.pan(-1_000)
    assert vp.start == vp.t_min  # no time before the first event


def test_at_fit_until_zoomed_or_panned() -> None:
    """fit puts the view at fit; a zoom or a pan takes it away (a pan at fit has nowhere to
    go: the whole recording is on screen); a resize alone does not make a zoomed view look
    fitted."""
    vp = Viewport(t_max=10_000_000, width=100)
    vp.fit()
    assert vp.at_fit
    vp.resize(5)
    vp.fit()
    assert vp.at_fit
    vp.zoom(2)
    assert not vp.at_fit
    vp.fit()
    vp.pan(3)
    assert vp.at_fit
    vp.zoom(2)
    vp.pan(-3)
    vp.pan(3)
    assert not vp.at_fit


def test_playing_at_fit_does_not_page_the_window() -> None:
    """The whole recording on screen: playing to the end leaves the window where it is."""
    vp = Viewport(t_max=10_000_000, width=100)
    vp.fit()
    vp.playing = True
    while vp.advance(0.25):
        pass
    assert vp.cursor == vp.t_max and vp.at_fit


def test_at_fit_survives_a_zoom_recomputed_from_the_span() -> None:
    """800 ms in 99 cells: the span divided back by the width differs from fit's zoom in the
    last bit; the view is still at fit."""
    vp = Viewport(t_max=800_000_000, width=99)
    vp.fit()
    vp.ns_per_cell = (vp.end - vp.start) / vp.width
    assert vp.ns_per_cell != 800_000_000 / 98 and vp.at_fit

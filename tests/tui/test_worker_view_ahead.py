"""The by-worker view of a big recording is ready before ``v`` asks for it, and drawn the same.

The replay builds the worker lanes (and how each long one draws zoomed out) on a thread once its
first frame is up, so the first ``v`` does not stall; a loop or thread lane, whose spans never
overlap, is flattened in one pass.
"""

from __future__ import annotations

import pytest
from pilot_helpers import until

from tracer import events as K
from tracer.events import Event
from tracer.recording import Recording, make_header
from tracer.tui.app import ReplayApp
from tracer.tui.lane import BLOCKED, ERROR, NONE, RUNNING, WAITING, Lane, Span
from tracer.tui.lane_strip import flatten
from tracer.tui.model import build_model

pytestmark = [pytest.mark.anyio]


async def test_the_worker_lanes_are_built_before_v_is_pressed(loop_rec: Recording) -> None:
    """Opened on the by-request view, the replay builds the by-worker lanes by itself (each
    flattened for drawing); v then shows them, as it always did."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(100, 30)) as pilot:
        model = app.models[0]
        await until(
            pilot,
            lambda: (
                model.by_worker_built and all(lane.flat is not None for lane in model.by_worker)
            ),
        )
        screen = app.screen
        assert screen.view == "request"  # nothing asked for them
        await pilot.press("v")
        assert [lane.kind for lane in screen.timeline.lanes] == ["loop"]
        assert screen.timeline.lanes[0] is model.by_worker[0]  # built once, not again


def test_a_lane_without_overlaps_flattens_to_its_spans_merged_where_alike_and_touching() -> None:
    """Pieces alike that touch merge; a gap, another request or another share keeps them
    apart; instants stay; an idle span shows nothing."""
    spans = [
        Span(0, 10, RUNNING, 1, 0.9),
        Span(10, 20, RUNNING, 1, 0.9),  # touches an alike one: merged
        Span(20, 30, RUNNING, 2, 0.9),  # another request
        Span(30, 30, ERROR, 2),  # an instant
        Span(35, 40, WAITING, 2, 0.1),  # after a gap
        Span(40, 50, WAITING, 2, 0.2),  # another share
        Span(50, 60, NONE, 2),  # idle
        Span(60, 70, BLOCKED, 3),
    ]
    got = [(s.start, s.end, s.phase, s.req) for s in flatten(Lane("l", "l", "loop", spans))]
    assert got == [
        (0, 20, RUNNING, 1),
        (20, 30, RUNNING, 2),
        (30, 30, ERROR, 2),
        (35, 40, WAITING, 2),
        (40, 50, WAITING, 2),
        (60, 70, BLOCKED, 3),
    ]


def test_overlapping_spans_still_show_the_top_phase() -> None:
    """A lane whose spans overlap (a request's: a step inside its waiting) is flattened by the
    sweep: the highest phase at each instant."""
    lane = Lane("r", "r", "request", [Span(0, 100, WAITING, 1), Span(40, 60, RUNNING, 1)])
    assert [(s.start, s.end, s.phase) for s in flatten(lane)] == [
        (0, 40, WAITING),
        (40, 60, RUNNING),
        (60, 100, WAITING),
    ]


def test_a_block_that_names_no_request_is_drawn_on_its_own_loops_lane() -> None:
    """Two loops in one process: a loop.blocked with no request is a blocked span on the lane
    of the loop it happened on, and only there; each lane's steps stay in time order."""
    events = [
        Event(0, 0, K.SCHED_STEP, 1, 7, 1, "loop-a", dur=10),
        Event(1, 5, K.SCHED_STEP, 2, 7, 2, "loop-b", dur=10),
        Event(2, 20, K.LOOP_BLOCKED, None, 7, 1, "loop-a", dur=15),
        Event(3, 40, K.SCHED_STEP, 1, 7, 1, "loop-a", dur=5),
    ]
    model = build_model(
        Recording(header=make_header(app="app:app", interface="asgi"), events=events)
    )
    lanes = {lane.label: lane for lane in model.by_worker}
    assert [(s.start, s.end, s.phase) for s in lanes["loop loop-a"].spans] == [
        (0, 10, RUNNING),
        (20, 35, BLOCKED),
        (40, 45, RUNNING),
    ]
    assert [(s.start, s.end, s.phase) for s in lanes["loop loop-b"].spans] == [(5, 15, RUNNING)]

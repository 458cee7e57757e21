"""The times ``,`` and ``.`` step the replay's cursor through are built before a key asks.

They are every event time of a recording, sorted: seconds of work on a big one. The replay
builds them on a thread once its first frame is up (as it does the by-worker lanes), so the
first step is a bisection, not a sort of every event on the UI thread. Work is measured as the
lines of the tool's own code a step runs (``sys.settrace``), which a shared machine's load does
not change.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from pilot_helpers import until

import tracer
from tracer import events as K
from tracer.events import Event
from tracer.recording import Recording, make_header
from tracer.tui.app import ReplayApp
from tracer.tui.screen import ReplayScreen

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

MS = 1_000_000
_OURS = str(Path(tracer.__file__).parent)


def _recording(requests: int) -> Recording:
    """``requests`` requests 1 ms apart on one loop, each started, run for 0.2 ms, ended."""
    events: list[Event] = []
    for req in range(1, requests + 1):
        t = req * MS
        events += [
            Event(0, t, K.REQUEST_START, req, 1, 1, "loop", data={"scope_type": "http"}),
            Event(0, t + MS // 10, K.SCHED_STEP, req, 1, 1, "loop", dur=MS // 5),
            Event(0, t + MS // 2, K.REQUEST_END, req, 1, 1, "loop", data={"status": 200}),
        ]
    for seq, event in enumerate(events):
        events[seq] = event._replace(seq=seq)
    return Recording(header=make_header(app="app:app", interface="asgi"), events=events)


def _lines_run(call: Callable[[], Any]) -> int:
    """How many lines of tracer's own code ``call()`` runs (on this thread)."""
    count = 0

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if not frame.f_code.co_filename.startswith(_OURS):
            return None  # not ours: its lines are not counted
        if event == "line":
            count += 1
        return trace

    before = sys.gettrace()
    sys.settrace(trace)
    try:
        call()
    finally:
        sys.settrace(before)
    return count


async def _first_steps(requests: int) -> tuple[int, list[int]]:
    """Open a replay of ``requests`` requests, let it build what it builds ahead, then step
    the cursor forward twice and back once: the lines of our code the first step ran, and
    where each step put the cursor."""
    app = ReplayApp([_recording(requests)])
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        model = app.models[0]
        await until(pilot, lambda: model.by_worker_built)  # the thread ahead is done
        lines = _lines_run(screen.action_next_event)
        cursors = [int(screen.viewport.cursor)]
        screen.action_next_event()
        cursors.append(int(screen.viewport.cursor))
        screen.action_prev_event()
        cursors.append(int(screen.viewport.cursor))
        await pilot.press("q")
    return lines, cursors


async def test_the_event_times_are_ready_before_a_key_asks_for_them() -> None:
    """Opened and left alone, the replay has its event times built."""
    app = ReplayApp([_recording(50)])
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await until(pilot, lambda: screen.event_times_ready)
        await pilot.press("q")


async def test_the_first_step_costs_as_much_in_a_big_recording_as_in_a_small_one() -> None:
    """The first ``.`` in a replay of 3,000 requests runs as many lines of our code as in one
    of 30 (it ran one for each event time, and the model's own collection of them, on the UI
    thread); it moves the cursor to the next event, and ``,`` back to the one before."""
    small, small_cursors = await _first_steps(30)
    big, big_cursors = await _first_steps(3_000)
    assert big <= small + 20, (small, big)
    # From before the first event: to it, to the first request's step, back to its start.
    assert small_cursors == big_cursors == [MS, MS + MS // 10, MS]


def test_the_models_event_times_are_distinct_and_sorted_in_or_out_of_order() -> None:
    """One pass over events in time order; a hand-made list out of order is sorted all the
    same; unknown kinds are left out."""
    from tracer.events import Event
    from tracer.tui.model import _distinct_times

    times = [1, 1, 2, 5, 5, 9]
    ordered = [Event(seq=n, t=t, kind="request.start", req=1) for n, t in enumerate(times)]
    ordered.append(Event(seq=99, t=12, kind="future.kind", req=1))
    assert _distinct_times(ordered) == [1, 2, 5, 9]
    shuffled = [ordered[3], ordered[0], ordered[5], ordered[1], ordered[2], ordered[4]]
    assert _distinct_times(shuffled) == [1, 2, 5, 9]

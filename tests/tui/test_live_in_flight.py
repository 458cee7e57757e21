"""The live dashboard draws a request still going as in flight (``╱``) until now.

A WSGI request's ``sched.thread`` is recorded when its thread's stretch is over, so while it
runs the live view knows only that it started: it is neither running nor waiting (what the
phases give the unknown stretch of a request cut short), it is in flight. A request still in
the queue is queued until now, and one that ended is drawn as it was. The replay of a
recording cut short keeps its own look: ``?`` where the events stop, no ``╱``.

What the live view has at a time ``T`` is what was recorded by then: the events that were
over (a ``sched.thread`` is written at the end of its stretch).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pilot_helpers import until
from textual.widgets import Static

from tracer import events as K
from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.tui.lane_strip import lane_segments
from tracer.tui.live import LiveApp, LiveScreen
from tracer.tui.model import model_from_events
from tracer.tui.palette import IN_FLIGHT_GLYPH, INCOMPLETE_GLYPH
from tracer.tui.screen import ReplayScreen
from tracer.tui.timeline import Timeline

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

MS = 1_000_000
T = 15 * MS
"""When the live view is looked at: #3, #5, #6 and #7 are in their worker, #8 is queued."""


def _known_at(recording: Recording, t: int) -> Recording:
    """What the live view has of ``recording`` at ``t``: the events over by then."""
    events = [event for event in recording.events if event.end <= t]
    return Recording(header=recording.header, events=events)


def _row(lane: object, t_end: int, width: int = 60) -> str:
    """The lane's cells from 0 to ``t_end`` at ``width`` columns."""
    segments = lane_segments(lane, 0, t_end / (width - 1), width)  # type: ignore[arg-type]
    return "".join(segment.text for segment in segments)


def _states(recording: Recording) -> tuple[set[int], set[int], set[int]]:
    """Requests in a worker at ``T``, queued at ``T``, and over by ``T``."""
    seen: dict[int, set[str]] = {}
    for event in _known_at(recording, T).events:
        if isinstance(event.req, int):
            seen.setdefault(event.req, set()).add(event.kind)
    ended = {req for req, kinds in seen.items() if K.REQUEST_END in kinds}
    started = {req for req, kinds in seen.items() if K.REQUEST_START in kinds} - ended
    queued = set(seen) - ended - started
    return started, queued, ended


def test_requests_in_their_worker_are_in_flight_until_now(threads_rec: Recording) -> None:
    """At ``T``: a request in its worker is queued (if it was) up to its start, then in
    flight to the last column (now), with no waiting line and no running bar after its start
    (nothing says which); a queued one is queued to the last column; an ended one has no
    ``╱``; no lane has a ``?``."""
    started, queued, ended = _states(threads_rec)
    assert started and queued and ended  # the moment shows all three
    model = model_from_events(_known_at(threads_rec, T), in_flight_until=T)
    assert model.unended == []
    for lane in model.by_request:
        row = _row(lane, T)
        assert INCOMPLETE_GLYPH not in row, (lane.label, row)
        if lane.req in started:
            start = next(
                e.t for e in threads_rec.events if e.req == lane.req and e.kind == K.REQUEST_START
            )
            assert lane.in_flight == (start, T)
            # Columns as the view computes them (the cursor's is now's).
            first, now = int(start // (T / 59)), int(T // (T / 59))
            assert set(row[first + 1 : now + 1]) == {IN_FLIGHT_GLYPH}, (lane.label, row)
            assert set(row[now + 1 :]) <= {" "}, (lane.label, row)
        elif lane.req in queued:
            now = int(T // (T / 59))
            assert lane.in_flight is None and row[now] == "░", (lane.label, row)
        else:
            assert lane.in_flight is None and IN_FLIGHT_GLYPH not in row, (lane.label, row)


def test_a_replay_of_a_recording_cut_short_has_no_in_flight_look(
    threads_rec: Recording,
) -> None:
    """The same events as a recording (the run was killed at ``T``): no ``╱``, the requests
    that had started marked ``?`` where their events stop."""
    started, _, _ = _states(threads_rec)
    model = model_from_events(_known_at(threads_rec, T))
    assert set(started) <= set(model.unended)
    rows = [_row(lane, model.t_end) for lane in model.by_request]
    assert not any(IN_FLIGHT_GLYPH in row for row in rows)
    assert sum(INCOMPLETE_GLYPH in row for row in rows) >= len(started)


async def test_the_dashboard_shows_them_and_says_what_the_look_means(
    threads_rec: Recording, tmp_path: Path
) -> None:
    """The dashboard fed the events of ``T`` shows ``╱`` on the lanes of the requests in a
    worker, and its recent-requests title says ``╱╱ in flight``; once the run is over, the
    replay has none."""
    started, _, _ = _states(threads_rec)
    recorder = Recorder(tmp_path / "run.jsonl", flush_interval=0.02)
    recorder.header.update(threads_rec.header)
    release = threading.Event()
    known = _known_at(threads_rec, T).events

    def work(stop: threading.Event) -> None:
        recorder.extend(known)
        release.wait(10)
        ids = {event.seq for event in known}
        recorder.extend([event for event in threads_rec.events if event.seq not in ids])
        recorder.close()

    app = LiveApp(recorder, work, title="in flight")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        recent = screen.query_one("#recent", Timeline)
        await until(pilot, lambda: len(recent.lanes) == len(set().union(*_states(threads_rec))))
        await pilot.pause()
        title = str(screen.query_one("#live-recent-title", Static).render())
        assert f"{IN_FLIGHT_GLYPH * 2} in flight" in title
        # The rows on screen (the newest), by request: "#7 /   ░░╱╱╱".
        rows = {}
        for y in range(recent.size.height):
            text = recent.render_line(y).text
            if text.startswith("#"):
                rows[int(text.split()[0][1:])] = text
        assert started <= set(rows), rows
        for req, row in rows.items():
            assert (IN_FLIGHT_GLYPH in row) == (req in started), (req, row)
        release.set()
        # Its lanes, once the replay (built on a thread) is on screen and mounted.
        await until(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen.timelines)
        replay = app.screen
        timeline = replay.timeline  # type: ignore[attr-defined]
        lines = [timeline.render_line(y).text for y in range(len(timeline.lanes))]
        assert lines and not any(IN_FLIGHT_GLYPH in line for line in lines)
        await pilot.press("q")

"""A request the recording never saw end is marked so in the replay: ``?`` on its lane where
its events stop, a line in its detail pane, and the mark's entry in the legend.

The recording is the WSGI threads example cut as a killed run leaves it: the requests a worker
was serving have their ``request.start`` and nothing after (a thread's ``sched.thread`` is
written when its stretch is over, and ``request.end`` never came).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pilot_helpers import until
from textual.widgets import Static

from tracer import events as K
from tracer.recording import Recording
from tracer.tui.app import ReplayApp, open_recordings
from tracer.tui.examples import threads_example
from tracer.tui.model import model_from_events

pytestmark = [pytest.mark.anyio]

CUT = (9, 10)
"""The requests the run was serving when it was killed."""


def _cut_recording(tmp_path: Path) -> Path:
    """The threads example as a killed run leaves it, written to a file."""
    whole = threads_example(10, 4)
    kept = [
        event
        for event in whole.events
        if event.req not in CUT or event.kind in (K.REQUEST_QUEUED, K.REQUEST_START)
    ]
    path = tmp_path / "killed.jsonl"
    lines = [json.dumps(whole.header)] + [json.dumps(event.to_dict()) for event in kept]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rows(app: ReplayApp) -> dict[str, str]:
    timeline = app.screen.timeline  # type: ignore[attr-defined]
    rows = [timeline.render_line(y).text for y in range(len(timeline.lanes))]
    return {row.split()[0]: row for row in rows}


async def test_a_request_cut_short_is_marked_on_its_lane_in_its_detail_and_the_legend(
    tmp_path: Path,
) -> None:
    """#9 and #10 started and were never seen again: each lane has one ``?``, no other lane
    has any; the detail pane of #9 says it did not finish and when its last event was; the
    legend says what ``?`` means."""
    (recording,) = open_recordings([_cut_recording(tmp_path)])
    app = ReplayApp([recording])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        rows = _rows(app)
        assert [label for label, row in rows.items() if "?" in row] == ["#9", "#10"]
        assert all(rows[f"#{req}"].count("?") == 1 for req in CUT)
        legend = str(app.screen.query_one("#legend", Static).render())
        assert legend.replace("\N{NO-BREAK SPACE}", " ").endswith("? not finished")
        app.screen.timeline.select(8)  # type: ignore[attr-defined]
        await pilot.press("enter")
        body = app.screen.query_one("#detail-body", Static)
        await until(pilot, lambda: "#9" in str(body.render()))
        heading = str(body.render()).splitlines()[0]
        events = recording.events
        queued, start = (
            next(e.t for e in events if e.req == 9 and e.kind == kind)
            for kind in (K.REQUEST_QUEUED, K.REQUEST_START)
        )
        # Its last event, from its arrival, as every time in the pane is written.
        assert start - queued == 1_894_889
        said = "? not finished: nothing of it was recorded after +1.89 ms"
        assert heading.endswith(said), heading


async def test_a_complete_recording_has_no_such_mark(threads_rec: Recording) -> None:
    """Every request ended: no ``?`` on any lane, none in the legend."""
    app = ReplayApp([threads_rec])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert not any("?" in row for row in _rows(app).values())
        assert "not finished" not in str(app.screen.query_one("#legend", Static).render())


def test_the_detail_says_it_in_chinese_too(tmp_path: Path) -> None:
    """The pane's line, in the UI's language."""
    from tracer.tui.detail import detail_text
    from tracer.tui.labels import labels

    (recording,) = open_recordings([_cut_recording(tmp_path)])
    model = model_from_events(recording)
    lane = model.by_request[model.by_request.index_of(10) or 0]
    assert model.unended == [9, 10]
    assert "未结束：" in str(detail_text(model, lane, labels("zh"))).splitlines()[0]


def test_the_live_view_does_not_mark_requests_still_going(tmp_path: Path) -> None:
    """The dashboard's recent lanes are of a run still going: its newest requests have not
    ended yet, and are not marked as cut short."""
    (recording,) = open_recordings([_cut_recording(tmp_path)])
    live = model_from_events(recording, mark_unended=False)
    assert live.unended == []
    assert all(lane.incomplete_at is None for lane in live.by_request)

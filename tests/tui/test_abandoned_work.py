"""Work an app went on doing after its client gave up is drawn as abandoned in the replay.

A real run of an in-process model whose client times out before the app returns leaves two
``request.end`` events (docs/recording-format.md): the model's, for the client
(``error: "timeout"``), then the app's own. From the first to the second the figures draw a
dashed line (``tracer.export.lanes``: abandoned work); the replay draws the same stretch in a
phase of its own, ``ABANDONED`` (``╌``), says so in the legend and in the detail pane.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pilot_helpers import until
from textual.widgets import Static

import tracer
from tracer import events as K
from tracer.cli import main
from tracer.events import Event
from tracer.figures import duration
from tracer.recording import Recording
from tracer.tui.app import ReplayApp
from tracer.tui.detail import detail_text
from tracer.tui.labels import labels
from tracer.tui.lane import ABANDONED, WAITING
from tracer.tui.lane_strip import paint
from tracer.tui.model import build_model
from tracer.tui.palette import COLOURS, GLYPHS

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

RUNS = {
    # A worker thread held (asleep) 300 ms for a client that waits 100 ms.
    "wsgi": ["sample_apps.io_bound:wsgi_app", "--server", "threads", "--path", "/?ms=300"],
    # A coroutine suspended 300 ms on the loop for the same client.
    "asgi": ["sample_apps.io_bound:asgi_app", "--server", "loop", "--path", "/?ms=300"],
}


@pytest.fixture(scope="module", params=sorted(RUNS))
def timed_out(request: Any, tmp_path_factory: Any) -> Path:
    """A real run of one request whose client gave up (100 ms) before its app returned."""
    record = tmp_path_factory.mktemp("abandoned") / f"{request.param}.jsonl"
    argv = ["run", *RUNS[request.param], "-n", "1", "-c", "1", "--timeout", "100ms"]
    main([*argv, "--json", "--record", str(record)])
    return record


def _ends(recording: Recording) -> tuple[int, Event, Event]:
    """The request, its client's end (the timeout) and its app's own, later end."""
    (req,) = {e.req for e in recording.events if e.kind == K.REQUEST_QUEUED}  # not lifespan
    first, app = [e for e in recording.events if e.kind == K.REQUEST_END and e.req == req]
    assert (first.data["error"], app.data["error"]) == ("timeout", None)
    assert app.end > first.end
    return req, first, app  # type: ignore[return-value]


async def test_the_cells_after_the_timeout_are_abandoned(timed_out: Path) -> None:
    """On the request's lane every cell from just after the client's ✖ to just before the
    app's end is drawn ``╌`` in the abandoned colour (not the waiting the app was in), none
    before; the legend lists the phase, the detail pane says when the client left and until
    when the app went on."""
    recording = tracer.load(timed_out)
    req, first, app_end = _ends(recording)
    replay = ReplayApp([recording])
    async with replay.run_test(size=(140, 20)) as pilot:
        await pilot.pause()
        timeline = replay.screen.timeline  # type: ignore[attr-defined]
        vp = timeline.viewport
        index = timeline.lanes.index_of(req)
        lane = timeline.lanes[index]
        gave_up, ended = vp.column(first.end), vp.column(app_end.end)
        assert ended - gave_up > 10  # the abandoned stretch spans many cells
        row = timeline.render_line(index)
        cells = list(row.crop(timeline.label_width, timeline.size.width).text)
        glyph = GLYPHS[ABANDONED]
        assert cells[gave_up + 1 : ended] == [glyph] * (ended - gave_up - 1)
        assert glyph not in cells[:gave_up] and glyph not in cells[ended + 1 :]
        # The same cells as the model paints them: the phase, in its colour.
        codes, _, _ = paint(lane, vp.start, vp.ns_per_cell, vp.width)
        assert set(codes[gave_up + 1 : ended]) == {ABANDONED}
        assert ABANDONED not in codes[:gave_up]
        styles = {
            str(segment.style.color.triplet.hex)  # type: ignore[union-attr]
            for segment in row
            if glyph in segment.text
        }
        assert styles == {COLOURS[ABANDONED]}
        legend = str(replay.screen.query_one("#legend", Static).render())
        assert f"{glyph * 2} abandoned" in legend.replace("\N{NO-BREAK SPACE}", " ")
        timeline.select(index)
        await pilot.press("enter")
        body = replay.screen.query_one("#detail-body", Static)
        await until(pilot, lambda: f"#{req}" in str(body.render()))
        heading = str(body.render()).splitlines()[0]
        events = [e for e in recording.events if e.req == req]
        origin = events[0].t
        at = f"+{duration(first.end - origin)}"
        until_ = f"+{duration(app_end.end - origin)}"
        assert heading.endswith(
            f"{glyph} abandoned: its client gave up at {at}, the app went on until {until_}"
        ), heading


def test_the_model_lists_the_request_and_its_span(timed_out: Path) -> None:
    """The model names the request as abandoned; its lane's abandoned span runs from the
    client's end to the app's, and the waiting under it stays waiting (the worker lanes are
    untouched: the worker was busy all the same)."""
    recording = tracer.load(timed_out)
    req, first, app_end = _ends(recording)
    model = build_model(recording)
    assert model.abandoned == [req]
    lane = model.by_request[model.by_request.index_of(req) or 0]
    assert [(s.start, s.end) for s in lane.spans if s.phase == ABANDONED] == [
        (first.end, app_end.end)
    ]
    assert any(s.phase == WAITING for s in lane.spans)
    assert all(s.phase != ABANDONED for w in model.by_worker for s in w.spans)


def test_the_detail_says_it_in_chinese_too(timed_out: Path) -> None:
    """The pane's phrase, in the UI's language."""
    recording = tracer.load(timed_out)
    req, _, _ = _ends(recording)
    model = build_model(recording)
    lane = model.by_request[model.by_request.index_of(req) or 0]
    heading = str(detail_text(model, lane, labels("zh"))).splitlines()[0]
    assert "已放弃：客户端在 +" in heading and "应用仍运行至 +" in heading


async def test_a_recording_without_timeouts_has_no_abandoned_entry(
    threads_rec: Recording,
) -> None:
    """Every request ended once: nothing is abandoned, and the legend stays as it was."""
    assert build_model(threads_rec).abandoned == []
    replay = ReplayApp([threads_rec])
    async with replay.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        legend = str(replay.screen.query_one("#legend", Static).render())
        assert "abandoned" not in legend and GLYPHS[ABANDONED] not in legend

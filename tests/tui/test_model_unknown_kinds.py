"""The replay model ignores event kinds it does not know (docs/recording-format.md, "Events").

A newer release may write kinds this one has never heard of: such an event neither makes a
request lane of its own (drawn as never ended) nor changes the lane of a request it names.
The recordings go through a file and ``tracer.load``, as ``trace replay`` reads them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.tui.conftest import simulated, write_recording
from tracer import events as K
from tracer import load
from tracer.events import Event
from tracer.recording import Recording, make_header
from tracer.tui.app import ReplayApp
from tracer.tui.legend import Legend
from tracer.tui.model import build_model
from tracer.tui.screen import ReplayScreen

pytestmark = [pytest.mark.anyio]

FUTURE = "future.kind"
"""A kind no release of this format defines."""


def _with_lines(recording: Recording, path: Path, extra: list[dict[str, object]]) -> Recording:
    """``recording`` written to ``path`` with ``extra`` event lines appended, read back."""
    write_recording(recording, path)
    with path.open("a", encoding="utf-8") as out:
        for line in extra:
            out.write(json.dumps(line) + "\n")
    return load(path)


def _future(seq: int, t: int, req: int | None, dur: int | None = 5) -> dict[str, object]:
    return {
        "seq": seq,
        "t": t,
        "kind": FUTURE,
        "req": req,
        "pid": 1,
        "tid": 1,
        "thread": "x",
        "task": None,
        "dur": dur,
        "data": {},
    }


def test_unknown_kind_with_a_new_request_id_makes_no_lane(tmp_path: Path) -> None:
    """One event of an unknown kind naming a request id nothing else names: still 12 lanes,
    none unended, and the id is no request of the model."""
    plain = simulated("loop")
    last = plain.events[-1]
    recording = _with_lines(plain, tmp_path / "a.jsonl", [_future(10**6, last.t, 999_999)])
    assert recording.events[-1].kind == FUTURE  # the reader keeps it: the model must skip it
    model = build_model(recording)
    assert len(model.by_request) == len(build_model(plain).by_request) == 12
    assert model.by_request.order == build_model(plain).by_request.order
    assert model.by_request.index_of(999_999) is None
    assert 999_999 not in model.events_by_req
    assert model.unended == []


def test_unknown_kind_on_a_known_request_changes_nothing_of_it(tmp_path: Path) -> None:
    """An unknown event inside a request's life (before its first event, lasting past its
    end) leaves its lane's spans, label and events as they were."""
    plain = simulated("loop")
    req = plain.events[-1].req
    assert isinstance(req, int)
    first = next(e for e in plain.events if e.req == req)
    extra = [_future(10**6, max(first.t - 1, 0), req, dur=10**9)]
    recording = _with_lines(plain, tmp_path / "a.jsonl", extra)
    model, before = build_model(recording), build_model(plain)
    row = model.by_request.index_of(req)
    assert row is not None and row == before.by_request.index_of(req)
    assert model.by_request[row].spans == before.by_request[row].spans
    assert model.by_request[row].label == before.by_request[row].label
    assert model.events_by_req[req] == before.events_by_req[req]
    assert all(e.kind in K.KINDS for e in model.events_by_req[req])
    assert model.unended == [] and model.abandoned == before.abandoned


def test_unknown_kinds_stretch_no_timeline(tmp_path: Path) -> None:
    """Unknown events before the first event, lasting 10 s, and after the last: the model's
    start, end, last event and cursor stops are those of the recording without them."""
    plain = simulated("loop")
    first, last = plain.events[0], plain.events[-1]
    extra = [
        _future(10**6, max(first.t - 1, 0), None, dur=10 * 10**9),
        _future(10**6 + 1, last.t + 10**6, 3),
    ]
    recording = _with_lines(plain, tmp_path / "a.jsonl", extra)
    model, before = build_model(recording), build_model(plain)
    assert (model.t_start, model.t_end, model.t_last) == (
        before.t_start,
        before.t_end,
        before.t_last,
    )
    assert model.event_times == before.event_times


async def test_replay_shows_no_unfinished_request(tmp_path: Path) -> None:
    """``trace replay`` of a finished run plus one unknown event naming a new request id: its
    12 lanes, and no "not finished" entry in the legend (it appears only when a request
    never ended)."""
    plain = simulated("loop")
    recording = _with_lines(plain, tmp_path / "a.jsonl", [_future(10**6, 0, 999_999)])
    app = ReplayApp([recording])
    async with app.run_test(size=(120, 40)):
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        assert [lane.req for lane in screen.timeline.lanes] == list(range(1, 13))
        assert "not finished" not in str(screen.query_one("#legend", Legend).render())


def test_recording_requests_leave_out_unknown_kinds() -> None:
    """``Recording.requests()`` (which the SVG export lays out from) ignores a kind it does not
    know, on a known request and on a new id alike."""
    known = [
        Event(0, 1, "request.start", req=1, data={"method": "GET", "path": "/"}),
        Event(1, 2, "future.kind", req=1, dur=5_000_000_000),
        Event(2, 3, "request.end", req=1, data={"status": 200}),
        Event(3, 4, "future.kind", req=999_999),
    ]
    grouped = Recording(header=make_header(), events=known).requests()
    assert list(grouped) == [1]
    assert [event.kind for event in grouped[1]] == ["request.start", "request.end"]

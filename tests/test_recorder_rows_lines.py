"""A drain wanting ``Event`` objects makes the file's lines from the rows and its events from
the lines (sharing their data): the file, the events and a run's summary stay what they were.
A drain nobody reads (``drain_unread``) makes no ``Event`` at all."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

import tracer.recorder as recorder_module
from tracer.cli import main
from tracer.digest import Digest, digest_file
from tracer.events import Event, events_of_lines, from_rows, line_objects
from tracer.recorder import Recorder
from tracer.recording import load

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("method", "path", "headers:pairs", "scope_type")
SEND_KEYS = ("type", "status")


def _record(path: Path, subscribe: bool) -> list[Event]:
    """The same rows, plain, packed and emitted, into a recorder at ``path``; the events its
    subscriber got (none without one)."""
    got: list[Event] = []
    recorder = Recorder(path, clock=lambda: 5_000, wall_clock=lambda: 7, start_ns=1_000)
    if subscribe:
        recorder.subscribe(got.extend)
    sink = recorder.sink()
    for req in (1, 2):
        sink.append((next(sink.seq), 10 * req, "request.start", req, 4, 9, "main", None, None,
                     KEYS, "GET", "/é", ("x", "\udcff"), "http"))  # fmt: skip
        sink.append((next(sink.seq), 11 * req, "asgi.send", req, 4, 9, "main", "t", 3,
                     SEND_KEYS, "http.response.start", 200))  # fmt: skip
        recorder.emit("request.end", req, {"status": 200}, t=20 * req, tid=9, thread="main")
    recorder.add(Event(0, 99, "mark", None, 4, 9, "main", data={"label": "end"}))
    recorder.drain()
    recorder.close()
    return got


def test_the_file_is_the_same_with_a_subscriber_or_without(tmp_path: Path) -> None:
    _record(tmp_path / "alone.jsonl", subscribe=False)
    got = _record(tmp_path / "digest.jsonl", subscribe=True)
    alone = (tmp_path / "alone.jsonl").read_bytes()
    assert (tmp_path / "digest.jsonl").read_bytes() == alone
    lines = alone.decode().splitlines()[1:]
    assert [Event.from_dict(json.loads(line)) for line in lines] == got
    assert [event.kind for event in got] == ["request.start", "asgi.send", "request.end"] * 2 + [
        "mark"
    ]
    assert got[0].data == {
        "method": "GET",
        "path": "/é",
        "headers": [["x", "\\udcff"]],
        "scope_type": "http",
    }


def test_events_of_lines_are_the_events_of_the_rows() -> None:
    rows = [
        (0, 1, "request.start", 1, 4, 9, "main", None, None, KEYS, "GET", "/", ("a", "b"), "http"),
        (1, 2, "request.end", 1, 4, 9, "main", "t", 5, {"status": 500}),
    ]
    objects = line_objects(rows)
    events = events_of_lines(objects)
    assert events == from_rows(rows)
    assert all(type(event) is Event for event in events)
    assert events[1].end == 7
    assert events[0].data is objects[0]["data"]  # shared, not made twice


def _count_events_made(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    made: list[int] = []
    for name in ("from_rows", "events_of_lines"):
        real = getattr(recorder_module, name)

        def counted(rows, real=real):  # type: ignore[no-untyped-def]
            events = real(rows)
            if events:  # an earlier test's recorder, still draining nothing, makes none
                made.append(len(events))
            return events

        monkeypatch.setattr(recorder_module, name, counted)
    return made


def test_drain_unread_makes_no_event_for_nobody(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _count_events_made(monkeypatch)
    recorder = Recorder(tmp_path / "run.jsonl")
    recorder.emit("mark", data={"label": "a"})
    recorder.drain_unread()
    assert made == []
    assert recorder.backlog == 0
    recorder.emit("mark", data={"label": "b"})
    recorder.close()
    assert made == []
    lines = (tmp_path / "run.jsonl").read_text().splitlines()[1:]
    assert [json.loads(line)["data"]["label"] for line in lines] == ["a", "b"]


def test_drain_unread_still_feeds_the_subscribers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _count_events_made(monkeypatch)
    recorder = Recorder(tmp_path / "run.jsonl")
    digest = Digest()
    recorder.subscribe(digest.feed)
    recorder.emit("request.start", 1, {"scope_type": "http"}, t=1)
    recorder.emit("request.end", 1, {"status": 200}, t=3)
    recorder.drain_unread()
    assert made == [2]
    assert digest.summary()["requests"] == 1
    recorder.close()


@pytest.mark.parametrize("server", ["loop", "uvicorn"])
def test_the_summary_json_of_a_run_is_its_recording_read_back(tmp_path: Path, server: str) -> None:
    path = tmp_path / "run.jsonl"
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["run", "sample_apps.hello:asgi_app", "--app-dir", str(ROOT), "-n", "80",
                     "-c", "8", "--server", server, "--json", "--record", str(path)])  # fmt: skip
    assert code == 0
    live = json.loads(out.getvalue())
    _, digest = digest_file(path)
    assert live["requests"] == 80
    assert digest.for_json(digest.summary()) == live
    # In the file's order (the parent's: the client's rows before the server's), fed in
    # batches that cut requests apart, with their ends in different batches.
    recording = load(path)
    for size in (1, 5, 64):
        cut = Digest(recording.header)
        for at in range(0, len(recording.events), size):
            cut.feed(recording.events[at : at + size])
        assert cut.for_json(cut.summary()) == live
        assert cut.details() == digest.details()
        assert len(cut.requests()) == 80


def test_a_recorded_simulation_drains_its_queue_without_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The simulation's own drains (its queue kept short) make no ``Event`` nobody reads."""
    import sim.emit
    from sim import SimConfig, simulate

    made = _count_events_made(monkeypatch)
    monkeypatch.setattr(sim.emit, "_DRAIN_EVERY", 8)
    monkeypatch.setattr(sim.emit, "_DRAIN_BACKLOG", 100)
    path = tmp_path / "s.jsonl"
    recorder = Recorder(path, flush_interval=600)  # the writer thread never gets to drain
    result = simulate(SimConfig(model="threads", requests=300, seed=1), recorder=recorder)
    backlog = recorder.backlog
    recorder.close()
    assert made == []
    assert backlog <= 100 + 8 * 10
    assert len(load(path).events) == result.events

"""``tracer.load`` on big recordings: one object per repeated value, no garbage collection
while reading, the events in ``(t, seq)`` order whatever the order of the lines, and the same
verdict on every line as the line-by-line reader (``EventLines``, which ``trace summary``
streams with). Speed itself is measured by bench/load_speed.py, never asserted here."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tracer.errors import RecordingFormatError
from tracer.events import Event
from tracer.recording import EventLines, load, make_header

ROOT = Path(__file__).resolve().parent.parent


def _write(path: Path, events: list[dict[str, Any] | str]) -> Path:
    """A recording of ``events`` (objects, or raw lines), one line each, in the given order."""
    lines = [json.dumps(make_header())]
    lines += [item if isinstance(item, str) else json.dumps(item) for item in events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _event(seq: int, t: int, req: int | None = 1, **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "seq": seq,
        "t": t,
        "kind": "asgi.send",
        "req": req,
        "pid": 4242,
        "tid": 140_000_000_000 + (req or 0) % 2,
        "thread": "event-loop",
        "task": None if req is None else f"request-{req}",
        "dur": 5,
        "data": {"type": "http.response.body", "bytes": 2048, "more_body": False},
    }
    event.update(fields)
    return event


def test_equal_values_of_different_lines_are_one_object(tmp_path: Path) -> None:
    """Kinds, thread and task names, pids, thread idents, request ids and the string values
    of ``data`` repeat on every line: the loaded events share one object for each (a third of
    their memory), and their values are what the lines say."""
    path = _write(tmp_path / "run.jsonl", [_event(seq, seq * 10, req=7) for seq in range(4)])
    first, *others = load(path).events
    assert first == Event(
        0,
        0,
        "asgi.send",
        7,
        4242,
        140_000_000_001,
        "event-loop",
        "request-7",
        5,
        {"type": "http.response.body", "bytes": 2048, "more_body": False},
    )
    for event in others:
        assert event.kind is first.kind and event.thread is first.thread
        assert event.task is first.task and event.req is first.req
        assert event.pid is first.pid and event.tid is first.tid
        assert event.data["type"] is first.data["type"]
        assert event.data is first.data  # equal data: one dict, read-only


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The generations the cyclic garbage collector collects while the test runs, with the
    collector on (as in a program) and restored as it was afterwards."""
    seen: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    enabled = gc.isenabled()
    gc.enable()
    gc.callbacks.append(note)
    try:
        yield seen
    finally:
        gc.callbacks.remove(note)
        if not enabled:
            gc.disable()


def test_reading_runs_no_garbage_collection(tmp_path: Path, collections: list[int]) -> None:
    """Every object a load makes lives on and none is in a cycle: the collections its
    allocations set off (21 for 5,000 events) would free nothing, and each of an older
    generation walks every event read so far. The collector is paused while reading, and on
    again after: the next allocation then sets off one collection of the youngest generation,
    which takes in what was read."""
    path = _write(tmp_path / "run.jsonl", [_event(seq, seq, req=seq) for seq in range(5000)])
    gc.collect()  # what writing the file left: the count of allocations starts from nothing
    collections.clear()
    recording = load(path)
    assert len(recording.events) == 5000
    assert collections in ([], [0])
    assert gc.isenabled()


def test_a_collector_the_caller_paused_stays_paused(tmp_path: Path) -> None:
    """A caller's own ``gc.disable()`` (the replay pauses it around its loads) is kept."""
    path = _write(tmp_path / "run.jsonl", [_event(0, 0)])
    enabled = gc.isenabled()
    gc.disable()
    try:
        load(path)
        assert not gc.isenabled()
    finally:
        if enabled:
            gc.enable()


@pytest.mark.parametrize(
    "order",
    [
        [(0, 0), (1, 0), (2, 5), (3, 5), (4, 9)],  # time order (a simulation's file)
        [(0, 0), (1, 9), (2, 5), (3, 5), (4, 1)],  # seq order: spans written when they end
        [(4, 9), (2, 5), (3, 5), (0, 0), (1, 0)],  # neither (files joined by hand)
        [(3, 5), (1, 0), (2, 5), (1, 0), (0, 5)],  # a repeated (t, seq) keeps its line order
    ],
)
def test_events_come_in_time_then_seq_order(tmp_path: Path, order: list[tuple[int, int]]) -> None:
    """Whatever the order of the lines, the events are sorted by ``(t, seq)``, a stable sort:
    events of equal ``t`` and ``seq`` stay in the order of their lines."""
    lines = [_event(seq, t, kind=f"line-{n}") for n, (seq, t) in enumerate(order)]
    events = load(_write(tmp_path / "run.jsonl", list(lines))).events
    expected = sorted(range(len(order)), key=lambda n: (order[n][1], order[n][0]))
    assert [event.kind for event in events] == [f"line-{n}" for n in expected]


def _line_by_line(path: Path) -> tuple[str, Any, bool]:
    """What ``EventLines`` makes of a recording: its events sorted, or its error's message."""
    with open(path, encoding="utf-8", newline="\n") as handle:
        next(handle)
        lines = EventLines(handle, str(path))
        try:
            events = sorted(lines, key=lambda event: (event.t, event.seq))
        except RecordingFormatError as exc:
            return ("refused", str(exc), False)
    return ("read", events, lines.truncated)


def _loaded(path: Path) -> tuple[str, Any, bool]:
    try:
        recording = load(path)
    except RecordingFormatError as exc:
        return ("refused", str(exc), False)
    return ("read", recording.events, recording.truncated)


ODD_LINES = [
    "",
    "   ",
    "not json",
    "[1, 2]",
    "null",
    '"request.start"',
    "{}",
    '{"seq": 3, "t": 1, "kind": "x"}',  # the defaults of absent fields
    '{"seq": 3, "t": 1, "kind": "x", "pid": null, "tid": null, "thread": null, "data": null}',
    '{"seq": 3, "t": 1, "kind": "x", "req": true}',
    '{"seq": 3, "t": 1.0, "kind": "x"}',
    '{"seq": 3, "t": 1, "kind": 5}',
    '{"seq": 3, "t": 1, "kind": "x", "dur": -1}',
    '{"seq": 3, "t": 9223372036854775808, "kind": "x"}',
    '{"seq": 3, "t": 1, "kind": "x", "data": []}',
    '{"seq": 3, "t": 1, "kind": "x", "task": 7}',
    '{"seq": 3, "t": 1, "kind": "x", "data": {"m": "\\udcff"}}',
    '{"seq": 3, "t": 1, "kind": "x", "data": {"m": "caf\\u00e9", "n": "café"}}',
]


@pytest.mark.parametrize("line", ODD_LINES)
@pytest.mark.parametrize("where", ["middle", "last", "last, cut"])
def test_every_line_gets_the_line_by_line_verdict(tmp_path: Path, line: str, where: str) -> None:
    """An odd line in the middle, as the last line, or as a last line without its newline
    (cut short): ``load`` reads, skips or refuses it exactly as ``EventLines`` does."""
    events: list[dict[str, Any] | str] = [_event(0, 0), _event(1, 2)]
    if where == "middle":
        events.insert(1, line)
    else:
        events.append(line)
    path = _write(tmp_path / "run.jsonl", events)
    if where == "last, cut":
        path.write_bytes(path.read_bytes().removesuffix(b"\n"))
    assert _loaded(path) == _line_by_line(path)


def test_the_bench_script_runs_on_a_tiny_load() -> None:
    """bench/load_speed.py makes its recordings, reads each in a fresh process and prints a
    row of figures for each."""
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "load_speed.py"),
            "--requests",
            "30",
            "--repeats",
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "events/s" in done.stdout and "MB/100k" in done.stdout
    assert "30 requests, time order" in done.stdout and "30 requests, live order" in done.stdout

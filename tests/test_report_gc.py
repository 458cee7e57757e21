"""The report of blocks that were garbage collection (``loop.blocked``'s ``gc_ns``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracer import events as K
from tracer.cli import main
from tracer.digest import Digest
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.recording import load

MS = 1_000_000


def _events() -> list[Event]:
    """One request whose three steps blocked the loop: the first (40 ms) mostly collecting
    garbage, the second (20 ms) for 2 ms of it, the third (10 ms) not at all, as a recording
    made before ``gc_ns`` existed says of every block."""
    blocks = [(1, 40, 30, "app.py:7"), (41, 20, 2, "app.py:8"), (61, 10, None, "app.py:9")]
    events = [
        Event(0, 0, K.REQUEST_START, 1, pid=5, tid=9, thread="loop", data={"scope_type": "http"})
    ]
    for seq, (t, dur, gc_ms, location) in enumerate(blocks, 1):
        data: dict[str, object] = {"location": location, "delayed": []}
        if gc_ms is not None:
            data["gc_ns"] = gc_ms * MS
        events.append(Event(seq, t * MS, K.LOOP_BLOCKED, 1, pid=5, tid=9, dur=dur * MS, data=data))
    events.append(Event(4, 71 * MS, K.REQUEST_END, 1, pid=5, tid=9, data={"status": 200}))
    return events


def test_a_block_mostly_collecting_garbage_is_its_own_culprit_row() -> None:
    """A block with ``gc_ns`` over half of it is told apart; the others keep their place, and
    the collecting time of every block is summed."""
    digest = Digest()
    digest.feed(_events())
    details = digest.details()
    assert [(c.location, c.count) for c in details.culprits] == [
        ("app.py:7 (mostly collecting garbage)", 1),
        ("app.py:8", 1),
        ("app.py:9", 1),
    ]
    assert details.gc_ms == 32.0


def test_trace_summary_says_how_much_of_the_blocked_time_was_collecting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recording file whose blocks carry ``gc_ns`` reads back (the reader's checks take the
    new field), and ``trace summary`` says the collecting time on the "loop blocked" line."""
    path = tmp_path / "gc.jsonl"
    recorder = Recorder(str(path))
    for event in _events():
        recorder.add(event)
    recorder.close()
    assert [e.data.get("gc_ns") for e in load(path).events if e.kind == K.LOOP_BLOCKED] == [
        30 * MS,
        2 * MS,
        None,
    ]
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["summary", str(path)]) == 0
    out = capsys.readouterr().out
    assert "70.0 ms (32.0 ms collecting garbage)" in out
    assert "app.py:7 (mostly collecting garbage)" in out

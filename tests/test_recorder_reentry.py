"""A subscriber that calls back into its recorder from inside the drain that feeds it.

The drain holds the recorder's drain lock while it calls the subscribers. The first request id
opens the file under that lock (so that of two workers one knows the path is the other's), and
a drain takes it too: a subscriber asking for its first request id, or reading ``events``,
waited for a lock its own thread held, for ever. Each case runs in a Python of its own, the
drain on a thread joined with a timeout, so a hang is reported, not inherited by the tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import tracer

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parent.parent

DRAIN_ON_A_THREAD = """
import os, sys, threading, tracer

recorder = tracer.Recorder(sys.argv[1], keep=True, flush_interval=3600)
seen = []
recorder.subscribe(lambda batch: seen.append({subscriber}))
recorder.emit("mark", data={{"label": "one"}})
drain = threading.Thread(target=recorder.drain, daemon=True)
drain.start()
drain.join(5)
if drain.is_alive():
    print("hung", flush=True)
    os._exit(0)  # the hung drain holds the lock that closing at exit would wait for
recorder.close()
print(seen)
"""


def _drain_calling(subscriber: str, path: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", DRAIN_ON_A_THREAD.format(subscriber=subscriber), str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.stderr == ""
    return done.stdout


def test_a_subscriber_may_take_the_first_request_id_inside_a_drain(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    assert _drain_calling("recorder.new_request_id()", path) == "[1]\n"
    recording = tracer.load(path)
    assert [e.data["label"] for e in recording.events] == ["one"]
    assert not recording.unfinished


def test_a_subscriber_reading_events_inside_a_drain_gets_those_kept(tmp_path: Path) -> None:
    """The drain that calls it has kept its batch already; the drain asked for inside it
    moves nothing (it would wait for its own lock)."""
    labels = "[e.data['label'] for e in recorder.events]"
    assert _drain_calling(labels, tmp_path / "run.jsonl") == "[['one']]\n"


def test_the_first_request_id_still_opens_the_file_first(tmp_path: Path) -> None:
    """Outside a drain, the first id opens the file (its header on disk) before it is given."""
    path = tmp_path / "run.jsonl"
    recorder = tracer.Recorder(path, flush_interval=3600)
    try:
        assert recorder.new_request_id() == 1
        assert path.read_text().count("\n") == 1  # the header line
    finally:
        recorder.close()

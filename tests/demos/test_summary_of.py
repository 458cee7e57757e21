"""A demo's figures read one summary per recording (``summary_of``), the same as
``summarize`` makes, and a fresh one once the recording's events change."""

from __future__ import annotations

from tests.demos.demo_cache import simulated
from tracer.demos.shapes import summary_of
from tracer.summary import summarize


def test_summary_of_is_summarize_once_per_recording() -> None:
    recording = simulated("sync-vs-async").recordings[0]
    first = summary_of(recording)
    assert first == summarize(recording)
    assert summary_of(recording) is first  # made once
    events = list(recording.events)
    try:
        recording.events = events[: len(events) // 2]
        assert summary_of(recording) == summarize(recording) != first
    finally:
        recording.events = events

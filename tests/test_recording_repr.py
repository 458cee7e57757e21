"""A ``Recording``'s repr is one short line (a notebook cell's value, a debugger, a log): its
title, how many events, where it was read from; the dataclass's own listed every event."""

from __future__ import annotations

import json
from pathlib import Path

import tracer
from tracer.tui.examples import threads_example


def test_a_recording_in_memory_says_its_title_and_count() -> None:
    recording = threads_example(10, 4)
    count = len(recording.events)
    assert count > 50
    assert repr(recording) == (
        f"<Recording 'sample_apps.hello:wsgi_app · WSGI threads (simulated)': {count:,} events>"
    )


def test_a_recording_read_back_says_where_from_and_a_cut(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    recording = threads_example(10, 4)
    lines = [json.dumps(recording.header)] + [json.dumps(e.to_dict()) for e in recording.events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = tracer.load(str(path))
    assert repr(whole).endswith(f" events from {str(path)!r}>")
    path.write_bytes(path.read_bytes()[:-5])  # the last line cut short
    cut = tracer.load(str(path))
    assert repr(cut).endswith(f" events from {str(path)!r}, cut short>")
    assert len(repr(cut)) < 200

"""Recordings are written where the OS lacks what Linux has (Windows: no ``os.pwrite``, no
``fcntl``; macOS: no ``os.sched_getaffinity``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import tracer
import tracer.cores
from tracer.events import Event
from tracer.recording import RecordingWriter, make_header


def _write_two_checkpoints(path: Path) -> None:
    writer = RecordingWriter(path, make_header())
    writer.write([Event(0, 1, "mark", data={"label": "a"})])
    writer.checkpoint()  # "done" in place
    writer.write([Event(1, 2, "mark", data={"label": "b"})])  # "open" again
    writer.close()  # "done" again


def test_a_recording_is_finished_in_place_without_pwrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(os, "pwrite")  # Windows has none
    path = tmp_path / "run.jsonl"
    _write_two_checkpoints(path)
    recording = tracer.load(path)
    assert not recording.unfinished
    assert [event.data["label"] for event in recording.events] == ["a", "b"]
    assert path.read_text().splitlines()[0].endswith('"writer":"done"}')


def test_a_recording_is_written_without_advisory_locks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "fcntl", None)  # Windows has no fcntl: import fails
    monkeypatch.delattr(os, "sched_getaffinity")  # nor macOS this
    monkeypatch.setattr(tracer.cores, "CGROUP_ROOT", tmp_path / "no-cgroups")  # nor a quota
    path = tmp_path / "run.jsonl"
    _write_two_checkpoints(path)
    recording = tracer.load(path)
    assert not recording.unfinished
    assert recording.header["host"]["cpus"] == (os.cpu_count() or 1)

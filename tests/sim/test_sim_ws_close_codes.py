"""A simulation of WebSocket sessions says how they closed as the summary of its recording does."""

from __future__ import annotations

from pathlib import Path

from sim.workload import load_workload
from tracer.summary import summarize


def test_the_simulations_close_codes_are_its_recordings(recorded, tmp_path: Path) -> None:
    spec = tmp_path / "chat.toml"
    spec.write_text(
        '[[route]]\nname = "chat"\npath = "/chat"\nphases = [{ws = {messages = 3, bytes = 4}}]\n'
        '[[route]]\nname = "page"\npath = "/"\nphases = [{io = "5ms"}]\n'
    )
    result, recording = recorded(
        model="loop", workload=load_workload(spec), requests=20, concurrency=5
    )
    summary = summarize(recording)
    assert result.summary["ws_close_codes"] == summary["ws_close_codes"]
    assert sum(summary["ws_close_codes"].values()) == summary["status"]["101"]

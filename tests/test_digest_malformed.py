"""``trace summary`` of a recording whose ``cpu_ns`` is no number (a recording read from
elsewhere): the value is ignored, as the summary ignores other bad values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tracer.cli import main


@pytest.mark.parametrize("kind", ["sched.step", "sched.thread"])
@pytest.mark.parametrize("cpu_ns", ["5", [5], {"n": 5}, None])
def test_a_non_numeric_cpu_ns_is_ignored(
    tmp_path: Path, capsys: Any, kind: str, cpu_ns: Any
) -> None:
    common = {"pid": 1, "tid": 1, "thread": "MainThread", "task": "t1"}
    rows = [
        {"format": "gateway-trace", "version": 1, "interface": "asgi"},
        {"seq": 0, "t": 0, "kind": "request.start", "req": 1, **common, "dur": None,
         "data": {"method": "GET", "path": "/"}},
        {"seq": 1, "t": 5, "kind": kind, "req": 1, **common, "dur": 5,
         "data": {"cpu_ns": cpu_ns}},
        {"seq": 2, "t": 20, "kind": "request.end", "req": 1, **common, "dur": None,
         "data": {"status": 200, "bytes_in": 0, "bytes_out": 2, "error": None}},
    ]  # fmt: skip
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert main(["summary", str(path)]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "1" in captured.out

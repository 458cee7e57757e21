"""Perfetto export of data nested deeper than orjson writes (the loader reads deeper): the
too-deep part is written as a placeholder, the file is whole JSON, never a partial one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tracer.cli import main


def test_deeply_nested_data_is_cut_not_fatal(tmp_path: Path, capsys: Any) -> None:
    deep: Any = "leaf"
    for _ in range(300):
        deep = [deep]
    common = {"pid": 1, "tid": 1, "thread": "MainThread", "task": "t1"}
    rows = [
        {"format": "gateway-trace", "version": 1, "interface": "asgi"},
        {"seq": 0, "t": 0, "kind": "request.start", "req": 1, **common, "dur": None,
         "data": {"method": "GET", "path": "/", "extra": deep}},
        {"seq": 1, "t": 20, "kind": "request.end", "req": 1, **common, "dur": None,
         "data": {"status": 200, "bytes_in": 0, "bytes_out": 2, "error": None}},
    ]  # fmt: skip
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "r.perfetto.json"
    assert main(["export", str(path), "--to", "perfetto", "-o", str(out)]) == 0
    assert "Traceback" not in capsys.readouterr().err
    trace = json.loads(out.read_text())
    args = [e["args"] for e in trace["traceEvents"] if "extra" in e.get("args", {})]
    assert args
    value, depth = args[0]["extra"], 0
    while isinstance(value, list):
        value, depth = value[0], depth + 1
    assert value == "…" and depth < 254

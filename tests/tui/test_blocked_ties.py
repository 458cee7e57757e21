"""Two ``loop.blocked`` at one instant, one of them with no request (``req`` null, as the
loader accepts): the replay opens and draws, and ``n`` still goes from block to block."""

from __future__ import annotations

import html
import json
from pathlib import Path

from tracer.recording import load
from tracer.tui.app import render_svg

LINES = [
    {"format": "gateway-trace", "version": 1, "interface": "asgi"},
    {"seq": 0, "t": 0, "kind": "request.start", "req": 1, "pid": 1, "tid": 1,
     "thread": "MainThread", "task": "t1", "dur": None, "data": {"method": "GET", "path": "/"}},
    {"seq": 1, "t": 10, "kind": "loop.blocked", "req": 1, "pid": 1, "tid": 1,
     "thread": "MainThread", "task": "t1", "dur": 5, "data": {"location": "a.py:1", "delayed": []}},
    {"seq": 2, "t": 10, "kind": "loop.blocked", "req": None, "pid": 1, "tid": 1,
     "thread": "MainThread", "task": None, "dur": 5, "data": {"location": "b.py:2", "delayed": []}},
    {"seq": 3, "t": 20, "kind": "request.end", "req": 1, "pid": 1, "tid": 1,
     "thread": "MainThread", "task": "t1", "dur": None,
     "data": {"status": 200, "bytes_in": 0, "bytes_out": 0, "error": None}},
]  # fmt: skip


def test_blocks_at_one_instant_with_and_without_a_request(tmp_path: Path) -> None:
    path = tmp_path / "tie.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in LINES))
    svg = render_svg([load(path)], size=(100, 30), keys=["n", "n"])
    shown = html.unescape(svg).replace("\xa0", " ")
    assert svg.startswith("<svg") and "#1 /" in shown  # request 1's lane

"""What making spans of a recording warns of (values OTLP cannot carry as they are, a request
that cannot be made into spans) is a ``trace: warning:`` line on the command line's stderr,
as every other warning of ``trace`` is, never a bare line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

HEADER: dict[str, Any] = {"format": "gateway-trace", "version": 1, "interface": "asgi"}


def _event(seq: int, t: int, kind: str, req: Any, data: dict[str, Any], **row: Any) -> str:
    base = {"seq": seq, "t": t, "kind": kind, "req": req, "pid": 1, "tid": 1, "thread": "x"}
    return json.dumps({**base, "task": None, "dur": None, **row, "data": data})


def test_every_warning_of_an_otlp_json_export_is_a_trace_warning_line(tmp_path: Path) -> None:
    """A time before the epoch, a request id past 64 bits, a route that is an object, and
    a request whose headers are a number (it cannot be made into spans): four warnings,
    each once, each with the prefix; the export goes on (exit 0)."""
    start = {"method": "GET", "path": "/"}
    end = {"status": 200, "bytes_out": 0, "error": None}
    lines = [
        json.dumps(HEADER),
        _event(0, -5, "request.start", 2**63, start),
        _event(1, 10, "request.end", 2**63, end),
        _event(2, 20, "request.start", 2, start),
        _event(3, 30, "request.end", 2, {**end, "route": {"path": "/"}}),
        _event(4, 40, "request.start", 3, {**start, "headers": 5}),
        _event(5, 50, "request.end", 3, end),
    ]
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "r.json"
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "export", str(path), "--to", "otlp-json", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    err = done.stderr.splitlines()
    warnings = [line for line in err if line != f"trace: wrote 2 spans to {out}"]
    assert sorted(warnings) == [
        "trace: warning: a request could not be made into spans (TypeError: 'int' object is "
        "not iterable); it is skipped",
        "trace: warning: some integers do not fit OTLP's 64 bits: they are written as strings",
        "trace: warning: some recorded values are of no OpenTelemetry attribute type: they "
        "are written as strings",
        "trace: warning: some times fall outside what OTLP carries (0 to 2**64-1 ns since the "
        "epoch): they are clamped to it",
    ]

"""``tracer.export.trace_json``: the Perfetto export's file, written as its events come.

The writer's bytes are those of the whole object dumped at once, however the events arrive;
to stdout they are UTF-8 on its binary buffer, after what the text stream held, with a
newline; values orjson refuses are written cut. The export writes through it: its file is
``to_chrome_trace``'s object.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import orjson

from tracer.demos import SCENARIOS, run_demo
from tracer.export import ExportOptions, slices
from tracer.export import perfetto as P
from tracer.export.trace_json import CUT, DEPTH, SLICE, TraceWriter, dumps


def _trace(count: int) -> dict[str, object]:
    events = [{"ph": "i", "name": f"é{n}", "ts": n / 1000, "args": {"n": n}} for n in range(count)]
    return {"traceEvents": events, "displayTimeUnit": "ms", "otherData": {"title": "t ✓"}}


def _written(trace: dict[str, object], cuts: list[int], *, stdout: bool = False) -> bytes:
    """What the writer writes of ``trace``, its events handed over cut at ``cuts``."""
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="latin-1" if stdout else "utf-8", write_through=True)
    events = trace["traceEvents"]
    assert isinstance(events, list)
    writer = TraceWriter(out, stdout=stdout)
    bounds = [0, *cuts]
    for a, b in zip(bounds, bounds[1:], strict=False):
        writer.events(events[a:b])
    writer.close({**trace, "traceEvents": events[bounds[-1] :]})
    out.flush()
    assert writer.written == len(events)
    return raw.getvalue()


def test_the_file_is_the_object_dumped_whole_however_the_events_come() -> None:
    """Batches of any size (none, one, more than a slice) give the bytes of one dump."""
    trace = _trace(SLICE + 5)
    whole = orjson.dumps(trace)
    assert _written(trace, []) == whole
    assert _written(trace, [0, 1, 1, 7, SLICE + 2]) == whole
    assert _written(_trace(0), []) == orjson.dumps(_trace(0))


def test_to_stdout_it_writes_utf8_bytes_after_the_text_and_a_newline() -> None:
    """Standard output gets UTF-8 (``é``, ``✓``) whatever its text encoding, and a newline."""
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="latin-1")
    out.write("before ")  # held by the text stream: it must come out first
    writer = TraceWriter(out, stdout=True)
    trace = _trace(3)
    writer.close(trace)
    assert raw.getvalue() == b"before " + orjson.dumps(trace) + b"\n"


def test_values_orjson_refuses_are_written_cut() -> None:
    """Data nested past ``DEPTH`` levels ends in ``CUT``; integers beyond 64 bits are
    strings; the rest is as it was."""
    deep: object = "bottom"
    for _ in range(300):
        deep = [deep]
    value = {"deep": deep, "big": 2**70, "small": -(2**63), "ok": [1, "x"]}
    back = json.loads(dumps(value))
    assert back["big"] == str(2**70) and back["small"] == -(2**63) and back["ok"] == [1, "x"]
    level, depth = back["deep"], 1
    while isinstance(level, list):
        (level,) = level
        depth += 1
    assert (level, depth) == (CUT, DEPTH)


def test_the_export_writes_the_trace_of_to_chrome_trace(tmp_path: Path) -> None:
    """``export_perfetto`` through the writer: the file is ``to_chrome_trace``'s object, and
    the module keeps its public names (``nest`` is the slices module's)."""
    demo = run_demo(SCENARIOS["blocking-call"], simulated=True)
    recording = demo.recordings[0]
    out = tmp_path / "run.perfetto.json"
    said = P.export_perfetto(recording, ExportOptions(output=str(out)))
    written = json.loads(out.read_bytes())
    assert written == json.loads(orjson.dumps(P.to_chrome_trace(recording)))
    assert said.startswith(f"wrote {len(written['traceEvents'])} trace events to {out}")
    assert P.nest is slices.nest and P.Interval is slices.Interval

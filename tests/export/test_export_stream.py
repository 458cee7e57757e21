"""``tracer.export.stream``: a recording file read in passes gives what ``load`` gives.

The events come in ``load``'s order even from a file out of time order (a multi-process run's
batches), each line is judged as ``load`` judges it, and every exporter writes from the file
what it writes from the loaded recording.
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest

import tracer
from tracer import events as K
from tracer.errors import RecordingFormatError
from tracer.export import ExportOptions, get_exporter
from tracer.export.perfetto import to_chrome_trace
from tracer.export.stream import RecordingFile
from tracer.recorder import Recorder


def _two_processes(path: Path) -> str:
    """Two worker processes serving requests at once, a request ended again by its app after
    its client gave up (abandoned work), a late error, a bookmark; lines written in batches per
    process, each batch out of time order with the other's, as a multi-process run writes them."""
    rec = Recorder(
        start_ns=0,
        clock=lambda: 0,
        wall_clock=lambda: 1_764_100_000_000_000_000,
        app="shop:app",
        interface="wsgi",
        server={"model": "processes"},
    )
    for req in range(1, 41):
        pid, t = 100 + req % 2, req * 3_000
        start = {"method": "GET", "path": f"/{req}", "scope_type": "http"}
        rec.emit(K.REQUEST_QUEUED, req, {"method": "GET"}, t=t, pid=pid, tid=1, thread="w")
        rec.emit(K.REQUEST_START, req, start, t=t + 500, pid=pid, tid=2, thread="worker")
        rec.emit(K.SCHED_THREAD, req, {"cpu_ns": 9}, t=t + 500, dur=4_000, pid=pid, tid=2)
        rec.emit(K.WSGI_START_RESPONSE, req, {"status": 200}, t=t + 900, pid=pid, tid=2)
        rec.emit(K.WSGI_BODY, req, {"bytes": 3}, t=t + 1_000, dur=100, pid=pid, tid=2)
        rec.emit(K.REQUEST_END, req, {"status": 200}, t=t + 2_000, pid=pid, tid=2)
        if req % 7 == 0:  # its app goes on after the end, and ends it again
            rec.emit(K.WSGI_CLOSE, req, {}, t=t + 9_000, dur=50, pid=pid, tid=2)
            rec.emit(K.ERROR, req, {"type": "OSError"}, t=t + 9_500, pid=pid, tid=2)
            rec.emit(K.REQUEST_END, req, {"status": 200}, t=t + 9_900, pid=pid, tid=2)
    rec.emit(K.MARK, None, {"label": "look", "req": 12}, t=40_000)
    saved = Path(rec.save(path))
    header, *lines = saved.read_text(encoding="utf-8").splitlines()
    rng = random.Random(7)
    shuffled: list[str] = []
    while lines:
        size = rng.randint(1, 30)
        batch, lines = lines[:size], lines[size:]
        rng.shuffle(batch)
        shuffled += batch
    saved.write_text("\n".join([header, *shuffled]) + "\n", encoding="utf-8")
    return str(saved)


@pytest.fixture()
def scrambled(tmp_path: Path) -> str:
    """A recording whose lines are out of time order."""
    return _two_processes(tmp_path / "run.jsonl")


def test_the_events_come_in_loads_order_from_a_file_out_of_order(scrambled: str) -> None:
    """``events`` gives the very list ``load`` sorts, holding back what must wait."""
    source = RecordingFile(scrambled)
    scan = source.scan()
    assert not scan.in_order and scan.lag > 0
    assert list(source.events()) == tracer.load(scrambled).events
    assert scan.counts[7] == 9  # the late events of a request count as its own


@pytest.mark.parametrize("target", ["otlp-json", "html", "svg"])
def test_a_file_exports_the_same_bytes_as_the_loaded_recording(scrambled: str, target: str) -> None:
    """Spans and figures from the file read in passes are the loaded recording's, byte for
    byte."""
    exporter = get_exporter(target)
    written = []
    for recording in (tracer.load(scrambled), RecordingFile(scrambled)):
        out = io.StringIO()
        exporter(recording, ExportOptions(output="-", stdout=out))
        written.append(out.getvalue())
    assert written[0] == written[1] and written[0]


def test_a_file_makes_the_perfetto_trace_of_the_loaded_recording(scrambled: str) -> None:
    """The same trace events, in the same order, from the file as from the loaded recording;
    every request's row and every thread's slices are there."""
    streamed = to_chrome_trace(RecordingFile(scrambled))
    assert streamed == to_chrome_trace(tracer.load(scrambled))
    rows = {e["id"] for e in streamed["traceEvents"] if e["ph"] == "b"}
    assert rows == set(range(1, 41))
    abandoned = [
        e for e in streamed["traceEvents"] if e["ph"] == "b" and e["name"] == "abandoned work"
    ]
    assert sorted(e["id"] for e in abandoned) == [7, 14, 21, 28, 35]
    json.dumps(streamed)


def test_a_broken_line_is_refused_and_a_cut_last_line_marks_the_file_unfinished(
    tmp_path: Path, scrambled: str
) -> None:
    """The reader's verdicts: a broken line inside the file is an error before any event is
    given; a cut-short last one is left out and says the run was cut short."""
    lines = Path(scrambled).read_text(encoding="utf-8").splitlines()
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join([*lines[:5], "{oops", *lines[5:]]) + "\n", encoding="utf-8")
    with pytest.raises(RecordingFormatError, match="line 6 is not a valid event"):
        RecordingFile(broken).scan()
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines)[:-7], encoding="utf-8")
    source = RecordingFile(cut)
    assert not source.unfinished
    assert list(source.events()) == tracer.load(cut).events
    assert source.unfinished and source.shell.truncated

"""The recorder, the streaming writer and the tolerant reader."""

from __future__ import annotations

import gc
import gzip
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

import tracer
from tracer import events as K
from tracer.digest import digest_file
from tracer.errors import RecordingFormatError, RecordingNotFound
from tracer.events import Event, from_rows, unpack_row
from tracer.recorder import Recorder
from tracer.recording import FORMAT, load


def _fake_clock(start: int = 1_000) -> object:
    now = [start]

    def clock() -> int:
        now[0] += 10
        return now[0]

    return clock


def test_emit_records_fields_in_order() -> None:
    """emit stamps seq, time since start, pid and the calling thread."""
    rec = Recorder(clock=_fake_clock(), app="x:app")
    rec.emit(K.REQUEST_START, 1, {"method": "GET"})
    rec.emit(K.REQUEST_END, 1, {"status": 200}, dur=5)
    got = rec.events
    assert [e.kind for e in got] == [K.REQUEST_START, K.REQUEST_END]
    assert [e.seq for e in got] == [0, 1]
    assert got[0].t == 10 and got[1].t == 20
    assert got[0].thread == threading.current_thread().name
    assert got[1].dur == 5 and got[1].data == {"status": 200}
    assert rec.header["format"] == FORMAT and rec.header["app"] == "x:app"


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    """save() writes header + events; load() reads them back sorted by (t, seq)."""
    rec = Recorder()
    rec.emit(K.REQUEST_END, 1, {"status": 200}, t=50)
    rec.emit(K.REQUEST_START, 1, {"method": "GET"}, t=10)
    for name in ("a.jsonl", "a.jsonl.gz"):
        path = tmp_path / name
        rec.save(path)
        loaded = tracer.load(path)
        assert [e.kind for e in loaded.events] == [K.REQUEST_START, K.REQUEST_END]
        assert loaded.header["version"] == 1
        assert not loaded.truncated


def test_streaming_recorder_keeps_nothing_in_memory(tmp_path: Path) -> None:
    """A recorder with a path streams to disk and holds no events itself."""
    path = tmp_path / "run.jsonl"
    with Recorder(path, flush_interval=0.01) as rec:
        for i in range(1000):
            rec.emit(K.REQUEST_START, i)
    assert rec.events == []
    assert len(load(path).events) == 1000


def test_concurrent_emit_loses_nothing() -> None:
    """Eight threads emitting at once: every event arrives with a unique seq."""
    rec = Recorder()

    def work() -> None:
        for i in range(2000):
            rec.emit(K.SCHED_STEP, i)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    got = rec.events
    assert len(got) == 16000
    assert len({e.seq for e in got}) == 16000


def test_truncated_last_line_is_tolerated(tmp_path: Path) -> None:
    """A run killed mid-line loses only that line."""
    path = tmp_path / "cut.jsonl"
    rec = Recorder()
    for i in range(3):
        rec.emit(K.REQUEST_START, i)
    rec.save(path)
    text = path.read_text()
    path.write_text(text[:-15])
    loaded = load(path)
    assert loaded.truncated
    assert len(loaded.events) == 2


def test_truncated_gzip_is_tolerated(tmp_path: Path) -> None:
    """A .jsonl.gz cut short keeps what was decompressible."""
    path = tmp_path / "cut.jsonl.gz"
    rec = Recorder()
    for i in range(2000):
        rec.emit(K.REQUEST_START, i, {"pad": "x" * 50})
    rec.save(path)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    loaded = load(path)
    assert loaded.truncated
    assert 0 < len(loaded.events) < 2000


def test_corrupt_middle_line_is_rejected(tmp_path: Path) -> None:
    """Garbage before the last line is corruption, not truncation."""
    path = tmp_path / "bad.jsonl"
    rec = Recorder()
    for i in range(3):
        rec.emit(K.REQUEST_START, i)
    rec.save(path)
    lines = path.read_text().splitlines()
    lines[1] = "{not json"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RecordingFormatError, match="line 2"):
        load(path)


def test_foreign_newer_and_missing_files(tmp_path: Path) -> None:
    """Foreign, newer and missing files each get a clear error."""
    foreign = tmp_path / "foreign.jsonl"
    foreign.write_text(json.dumps({"hello": 1}) + "\n")
    with pytest.raises(RecordingFormatError, match="not a gateway-trace recording"):
        load(foreign)
    newer = tmp_path / "newer.jsonl"
    newer.write_text(json.dumps({"format": FORMAT, "version": 99}) + "\n")
    with pytest.raises(RecordingFormatError, match="version 99"):
        load(newer)
    binary = tmp_path / "binary.jsonl.gz"
    binary.write_bytes(b"not gzip at all")
    with pytest.raises(RecordingFormatError):
        load(binary)
    with pytest.raises(RecordingNotFound):
        load(tmp_path / "missing.jsonl")
    gz = tmp_path / "empty.jsonl.gz"
    with gzip.open(gz, "wb"):
        pass
    with pytest.raises(RecordingFormatError, match="empty"):
        load(gz)


def test_subscriber_failure_is_isolated() -> None:
    """A subscriber that raises is dropped; the others and the recording go on."""
    rec = Recorder()
    seen: list[int] = []

    def bad(batch: object) -> None:
        raise RuntimeError("boom")

    rec.subscribe(bad)
    rec.subscribe(lambda batch: seen.extend(e.seq for e in batch))
    rec.emit(K.REQUEST_START, 1)
    rec.drain()
    rec.emit(K.REQUEST_END, 1)
    rec.close()
    assert seen == [0, 1]
    assert len(rec.events) == 2


def test_odd_values_still_make_valid_lines(tmp_path: Path) -> None:
    """An int past 64 bits, a non-string key or a stray object never lose the line."""
    rec = Recorder()
    rec.emit(K.MARK, None, {"big": 2**70, 3: "three", "obj": object.__name__, "b": b"x"})
    path = tmp_path / "odd.jsonl"
    rec.save(path)
    (event,) = load(path).events
    assert event.data["big"] == 2**70
    assert event.data["3"] == "three"
    assert event.data["b"] == "b'x'"


def test_sink_rows_and_packed_rows_become_the_events_emit_would_make(tmp_path: Path) -> None:
    """Rows appended through the sink, plain or packed, read back as the emitted events do."""
    emitted = Recorder(tmp_path / "emitted.jsonl", clock=_fake_clock(), start_ns=0)
    sunk = Recorder(tmp_path / "sunk.jsonl", clock=_fake_clock(), start_ns=0)
    emitted.emit(K.REQUEST_START, 7, {"method": "GET", "headers": [["host", "a"]]}, t=1, tid=3)
    emitted.emit(K.SCHED_STEP, 7, {"cpu_ns": 5, "awaiting": None}, t=2, dur=4, tid=3, task="t")
    emitted.emit(K.WSGI_CLOSE, 7, {}, t=3, dur=1, tid=3, thread="w")
    sink = sunk.sink()
    assert sink.start_ns == 0 and sink.clock() == 1_010  # the injected clock, unshifted
    row = (next(sink.seq), 1, K.REQUEST_START, 7, sink.pid, 3, "", None, None)
    sink.append((*row, {"method": "GET", "headers": [["host", "a"]]}))
    step_keys = ("cpu_ns", "awaiting")
    sink.append((next(sink.seq), 2, K.SCHED_STEP, 7, sink.pid, 3, "", "t", 4, step_keys, 5, None))
    sink.append((next(sink.seq), 3, K.WSGI_CLOSE, 7, sink.pid, 3, "w", None, 1, ()))
    emitted.close()
    sunk.close()
    emitted_lines = (tmp_path / "emitted.jsonl").read_text().splitlines()[1:]
    sunk_lines = (tmp_path / "sunk.jsonl").read_text().splitlines()[1:]
    assert sunk_lines == emitted_lines
    assert [e.data for e in load(tmp_path / "sunk.jsonl").events] == [
        {"method": "GET", "headers": [["host", "a"]]},
        {"cpu_ns": 5, "awaiting": None},
        {},
    ]


def test_a_packed_row_leaves_the_garbage_collector_at_its_first_pass() -> None:
    """A packed row of plain values is untracked by a young collection; a dict row is not."""
    rec = Recorder()
    sink = rec.sink()
    keys = ("cpu_ns", "awaiting", "location")
    sink.append((next(sink.seq), 1, K.SCHED_STEP, 1, sink.pid, 2, "m", "t", 3, keys, 4, "x", None))
    sink.append((next(sink.seq), 2, K.SCHED_STEP, 1, sink.pid, 2, "m", "t", 3, {"cpu_ns": 4}))
    gc.collect(0)
    packed, plain = list(rec._queue)
    assert not gc.is_tracked(packed) and gc.is_tracked(plain)
    assert [e.data for e in rec.events] == [
        {"cpu_ns": 4, "awaiting": "x", "location": None},
        {"cpu_ns": 4},
    ]


class _Tagging(Recorder):
    """A recorder whose emit adds a field: rows from the sink must go through it."""

    def emit(self, kind: str, req: int | None = None, data: Any = None, **kw: Any) -> None:
        super().emit(kind, req, {**(data or {}), "tagged": True}, **kw)


class _RowReader(Recorder):
    """A recorder that reads its queue itself (as a server process's does): plain rows only."""

    def drain(self) -> list[Event]:
        with self._drain_lock:
            self.rows = list(self._queue)
            self._queue.clear()
        return []


def test_the_sink_honours_recorders_that_override_emit_or_drain() -> None:
    """An emit override sees every sink row; a drain override finds dicts, never packed rows."""
    tagging = _Tagging()
    sink = tagging.sink()
    sink.append((next(sink.seq), 5, K.ASGI_SEND, 1, sink.pid, 2, "m", "t", 1, ("type",), "x"))
    [event] = tagging.events
    assert (event.t, event.kind, event.tid, event.task, event.dur) == (5, K.ASGI_SEND, 2, "t", 1)
    assert event.data == {"type": "x", "tagged": True}
    reader = _RowReader()
    sink = reader.sink()
    sink.append((next(sink.seq), 5, K.ASGI_SEND, 1, sink.pid, 2, "m", "t", 1, ("type",), "x"))
    reader.drain()
    assert reader.rows == [(0, 5, K.ASGI_SEND, 1, sink.pid, 2, "m", "t", 1, {"type": "x"})]


def test_events_built_from_rows_are_frozen_events() -> None:
    """from_rows makes real, frozen Event objects, equal to the ones the constructor makes."""
    row = (1, 2, K.MARK, None, 3, 4, "m", None, None, {"label": "a"})
    packed = (1, 2, K.MARK, None, 3, 4, "m", None, None, ("label",), "a")
    built = from_rows([row, packed])
    assert built == [Event(*row), Event(*row)]
    assert all(type(event) is Event for event in built)
    with pytest.raises(AttributeError):
        built[0].t = 9  # type: ignore[misc]
    assert (
        Event(1, 2, K.MARK).data == {} and Event(1, 2, K.MARK).data is not Event(1, 2, K.MARK).data
    )
    with pytest.raises(ValueError, match="10 fields, not 11"):
        from_rows([(*row, "one too many")])
    assert unpack_row(packed) == row and unpack_row(row) is row


def test_typed_keys_turn_flat_tuples_back_into_lists() -> None:
    """A ``name:pairs`` value (flat names and values) and a ``name:list`` value (a tuple) come
    out of the drain as the lists a recording holds; None stays None."""
    keys = ("headers:pairs", "client:list", "server:list", "status")
    packed = (1, 2, K.REQUEST_START, 1, 3, 4, "m", None, None, keys)
    row = packed + (("host", "a", "accept", "*/*"), ("127.0.0.1", 5), None, 200)
    (event,) = from_rows([row])
    assert event.data == {
        "headers": [["host", "a"], ["accept", "*/*"]],
        "client": ["127.0.0.1", 5],
        "server": None,
        "status": 200,
    }
    assert unpack_row(packed + ((), None, [1], None))[9] == {
        "headers": [],
        "client": None,
        "server": [1],
        "status": None,
    }


def _surrogate_recording(path: Path, where: int, *, cut: bool = False) -> None:
    """Three events saved to ``path``, line ``where`` (1 is the header) holding the JSON escape
    of a lone surrogate, as the stdlib's ``json.dumps`` writes one (valid JSON; orjson refuses
    it). ``cut``: the file then ends without its last newline and one character short."""
    rec = Recorder()
    for i in range(3):
        rec.emit(K.REQUEST_START, i, {"path": "/p"})
    rec.save(path)
    lines = path.read_text().splitlines()
    lines[where - 1] = lines[where - 1].replace('"gateway-trace"', '"gateway-trace","x":"\\udcff"')
    lines[where - 1] = lines[where - 1].replace('"/p"', '"/s\\udcff"')
    text = "\n".join(lines) + "\n"
    path.write_text(text[:-2] if cut else text)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        (1, r'"[^"]*" is not a valid gateway-trace recording: its header holds \\udcff'),
        (3, r"line 3 is not a valid event \(it holds \\udcff"),
        (4, r"line 4 is not a valid event \(it holds \\udcff"),
    ],
)
def test_a_lone_surrogate_escape_is_reported_as_one(
    tmp_path: Path, where: int, message: str
) -> None:
    """A ``\\udcff`` escape is valid JSON that encodes no UTF-8 text: the error names it, in
    the header ("its first line is not JSON" was wrong), in a middle line ("not JSON") and in
    a whole last line, which ends with its newline and so was not cut short: no truncation."""
    path = tmp_path / "surrogate.jsonl"
    _surrogate_recording(path, where)
    with pytest.raises(RecordingFormatError, match=message + r".*not UTF-8 text"):
        load(path)
    with pytest.raises(RecordingFormatError, match=message):
        digest_file(path)


def test_a_cut_last_line_holding_a_lone_surrogate_is_still_truncation(tmp_path: Path) -> None:
    """A last line cut short by a crash is skipped whatever it held before the cut."""
    path = tmp_path / "cut.jsonl"
    _surrogate_recording(path, 4, cut=True)
    loaded = load(path)
    assert loaded.truncated and len(loaded.events) == 2
    assert digest_file(path)[0].truncated


def test_the_same_gzip_recording_is_the_same_bytes_whenever_and_wherever_written(
    tmp_path: Path,
) -> None:
    """A seeded run written twice, in different folders at different times, gives equal
    ``.jsonl.gz`` bytes: no time and no file name in the gzip header (``gzip -n``)."""
    from tracer.recording import RecordingWriter

    header = {"format": FORMAT, "version": 1}
    written = []
    for folder, when in (("a", 1_000), ("bb", 2_000_000)):
        (tmp_path / folder).mkdir()
        path = tmp_path / folder / "run.jsonl.gz"
        writer = RecordingWriter(path, header)
        writer.write([Event(1, 5, K.REQUEST_START, 1, data={"path": "/"})])
        writer.close()
        os.utime(path, (when, when))
        written.append(path.read_bytes())
    assert written[0] == written[1]
    assert written[0][4:8] == b"\x00\x00\x00\x00"  # MTIME


def test_the_header_counts_the_cores_this_process_may_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``host.cpus`` is the process's CPU affinity where there is one (``taskset``, a cpuset),
    not every core of the machine."""
    from tracer.recording import make_header

    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert make_header()["host"]["cpus"] == 1
    monkeypatch.delattr(os, "sched_getaffinity")
    assert make_header()["host"]["cpus"] == 64


def test_a_plain_file_named_gz_that_is_no_recording_says_it_is_not_gzip(tmp_path) -> None:
    """A ``.gz`` name on a file without gzip's magic is read as plain text; when that text is
    no recording either, the line says the name promised compression the file does not have.
    A real gzip file whose first line is not JSON is not told it is uncompressed."""
    plain = tmp_path / "run.jsonl.gz"
    plain.write_bytes(b"hello, not a recording\n")
    with pytest.raises(RecordingFormatError, match=r"named \.gz but is not gzip-compressed"):
        load(plain)
    packed = tmp_path / "packed.jsonl.gz"
    packed.write_bytes(gzip.compress(b"hello, not a recording\n"))
    with pytest.raises(RecordingFormatError, match=r"\(its first line is not JSON\)"):
        load(packed)

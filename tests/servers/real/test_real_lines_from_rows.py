"""A recording's lines are the same bytes whether the recorder makes them from the queued
rows (nobody takes ``Event`` objects: no subscriber, none kept) or from the ``Event`` of each
row (a subscriber, the live dashboard's), and both are the line ``Event.to_dict`` gives.

The rows are a real server's, merged from its processes' streams (packed rows as the shims
queue them, read back from marshal frames), and the parent's client's (plain rows)."""

from __future__ import annotations

import gzip
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tracer import events as K
from tracer.client import ClientConfig
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.recording import _dumps
from tracer.servers import ServerConfig, server_model
from tracer.servers.real.harness import group_members

HERE = str(Path(__file__).resolve().parent)

pytestmark = pytest.mark.timeout(60)

_SERVED = {
    # ASGI: request.start/end, asgi.receive/send, sched.step, loop.blocked, error, violation.
    "uvicorn": ("real_line_kinds:asgi_app", ("/", "/block", "/violate", "/raise")),
    # WSGI: wsgi.input.read, wsgi.start_response, wsgi.write, wsgi.body, wsgi.close,
    # sched.thread, error, violation.
    "waitress": ("real_line_kinds:wsgi_app", ("/", "/raise", "/twice")),
}


def _served_rows(name: str) -> list[Sequence[Any]]:
    """Every row a run of the real server ``name`` queued in the parent's recorder: the ones
    merged from its processes as they came, and the client's own."""
    spec, paths = _SERVED[name]
    recorder = Recorder()
    merged: list[Sequence[Any]] = []
    add_rows = recorder.add_rows

    def copied(rows: Any) -> None:
        rows = list(rows)
        merged.extend(rows)
        add_rows(rows)

    recorder.add_rows = copied  # type: ignore[method-assign]
    server = server_model(name)(ServerConfig(app_spec=spec, app_dir=HERE), recorder)
    load = ClientConfig(concurrency=2, requests=8, paths=paths, method="POST", body=b"hello")
    try:
        server.start()
        server.run_load(load)
    finally:
        server.stop(timeout=5.0)
        pgid = server.process.pgid if server.process is not None else None
        if pgid is not None:
            assert group_members(pgid) == [], "server processes left behind"
    own = [event.as_row() for event in recorder.events if event.pid == os.getpid()]
    return merged + own


def _written(path: Path, rows: list[Sequence[Any]], *, subscribed: bool) -> list[Event]:
    """Write ``rows`` (each drain a share of them) to ``path`` through a recorder with or
    without a subscriber; returns what the subscriber got."""
    recorder = Recorder(path, start_ns=0, wall_clock=lambda: 0, flush_interval=600)
    got: list[Event] = []
    if subscribed:
        recorder.subscribe(got.extend)
    half = len(rows) // 2
    recorder.add_rows(rows[:half])
    recorder.drain()
    recorder.add_rows(rows[half:])
    recorder.close()
    return got


def _assert_same_lines(tmp_path: Path, rows: list[Sequence[Any]], ending: str) -> None:
    plain, subscribed = tmp_path / f"rows{ending}", tmp_path / f"events{ending}"
    assert _written(plain, rows, subscribed=False) == []
    events = _written(subscribed, rows, subscribed=True)
    assert len(events) == len(rows)
    assert plain.read_bytes() == subscribed.read_bytes()
    text = gzip.decompress(plain.read_bytes()) if ending.endswith(".gz") else plain.read_bytes()
    header = text.split(b"\n", 1)[0]
    expected = header + b"\n" + "".join(_dumps(e.to_dict()) + "\n" for e in events).encode()
    assert text == expected


@pytest.mark.parametrize("name", sorted(_SERVED))
def test_a_real_servers_rows_make_the_lines_their_events_make(tmp_path: Path, name: str) -> None:
    """Every kind of event the server's shim records, packed rows included, and the client's:
    the same bytes both ways, plain and gzip-compressed, in slices of ``SLICE`` lines too."""
    rows = _served_rows(name)
    kinds = {row[2] for row in rows}
    assert {K.ERROR, K.VIOLATION, K.REQUEST_START, K.CLIENT_RESPONSE} <= kinds
    assert any(type(row[9]) is tuple for row in rows)  # packed, as merged
    _assert_same_lines(tmp_path, rows, ".jsonl")
    _assert_same_lines(tmp_path, rows * (5000 // len(rows)), ".jsonl.gz")


class _Key(str):
    """A string key orjson takes only as a key of some other type."""


class _Odd:
    """A value JSON has no type for: written as its ``str()``."""

    def __str__(self) -> str:
        return "odd ☃"


def test_rows_json_cannot_put_in_one_array_make_the_same_lines(tmp_path: Path) -> None:
    """What the array of a slice's lines cannot hold or tell apart, each line made alone: a
    key that is no string, an int past 64 bits, a lone surrogate, a list of objects whose
    first key is ``seq`` (the array's own separator), nesting as deep as a line may go, a
    value of no JSON type; packed rows of every typed key beside them."""
    deep: Any = "bottom"
    for _ in range(252):  # as deep as orjson writes a line alone, one more than in an array
        deep = [deep]
    datas: list[Any] = [
        {1: "int key", None: "none key"},
        {_Key("k"): "str subclass key"},
        {"big": 2**70, "small": -(2**70)},
        {"text": "lone \udcff surrogate"},
        {"items": [{"seq": 1}, {"seq": 2, "t": 3}]},
        {"deep": deep},
        {"odd": _Odd(), "float": 0.1, "nan": float("nan"), "e": 1e16},
        {"label": 'naïve ☃ \u2028 \x00 "quoted" \\ },{"seq":'},
    ]
    keys = ("headers:pairs", "client:list", "message:text", "status")
    values = (("x-a", "b", "x-\udcff", "c"), ("127.0.0.1", 80), "bad \udcff", 200)
    around: list[Sequence[Any]] = [
        (0, 100, K.REQUEST_START, 9, 7, 8, "main", "Task-1", None, keys, *values),
        (0, 101, K.REQUEST_END, 9, 7, 8, "main", None, 5, ("status",), 200),
    ]
    rows: list[Sequence[Any]] = []
    for n, data in enumerate(datas):
        row = (0, n, K.MARK, n, 7, 8, "thread ☃", None, None, data)
        rows.append(row)
        (tmp_path / str(n)).mkdir()
        _assert_same_lines(tmp_path / str(n), [around[0], row, around[1]], ".jsonl")
    _assert_same_lines(tmp_path, around + rows, ".jsonl.gz")


def test_drain_still_returns_the_events_of_a_recorder_nobody_subscribes_to(
    tmp_path: Path,
) -> None:
    """A drain asked for returns its batch of ``Event`` objects, subscriber or not."""
    recorder = Recorder(tmp_path / "run.jsonl", start_ns=0, flush_interval=600)
    recorder.emit(K.MARK, 1, {"label": "a"}, t=5, tid=1, thread="t", pid=2)
    assert recorder.drain() == [Event(0, 5, K.MARK, 1, 2, 1, "t", None, None, {"label": "a"})]
    recorder.close()

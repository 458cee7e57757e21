"""``tracer.load`` keeps one dict for each distinct ``data`` of a recording: most events repeat a
few contents (every ``request.start`` of a route, every response start...), and a separate
dict per event was most of a big replay's memory. Equal means equal as JSON (``1``, ``1.0``
and ``true``, or the same keys in another order, stay apart), within one recording only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tracer import events as K
from tracer.recorder import Recorder
from tracer.recording import load

pytestmark = pytest.mark.timeout(60)


def _save(path: Path, datas: list[dict[str, Any]]) -> str:
    """A recording of one ``request.start`` per item of ``datas``, request ids from 1."""
    rec = Recorder()
    for req, data in enumerate(datas, start=1):
        rec.emit(K.REQUEST_START, req, data)
    rec.save(path)
    return str(path)


def _as_written(data: dict[str, Any]) -> str:
    """``data`` as JSON text: its keys in their order, ``1``, ``1.0`` and ``true`` apart."""
    return json.dumps(data)


def test_equal_data_are_one_dict(tmp_path: Path) -> None:
    scope = {"method": "GET", "path": "/", "headers": [["host", "a"]], "client": None}
    other = {"method": "POST", "path": "/upload"}
    path = _save(tmp_path / "r.jsonl", [scope, other, scope, scope, other])
    events = load(path).events
    assert [event.data for event in events] == [scope, other, scope, scope, other]
    first, second = events[0].data, events[1].data
    assert [event.data is first for event in events] == [True, False, True, True, False]
    assert events[4].data is second


def test_data_equal_to_python_but_not_as_json_stay_apart(tmp_path: Path) -> None:
    datas: list[dict[str, Any]] = [
        {"n": 1},
        {"n": 1.0},
        {"n": True},
        {"n": 1},
        {"a": 1, "b": [2]},
        {"b": [2], "a": 1},
        {"a": 1, "b": [2.0]},
    ]
    events = load(_save(tmp_path / "r.jsonl", datas)).events
    assert [_as_written(event.data) for event in events] == [_as_written(d) for d in datas]
    assert events[0].data is events[3].data
    assert len({id(event.data) for event in events}) == 6


def test_two_loads_share_no_dict(tmp_path: Path) -> None:
    """A recording's data are its own: loading another (or the same file again) gives new
    dicts."""
    path = _save(tmp_path / "r.jsonl", [{"path": "/"}, {"path": "/"}])
    one, two = load(path).events, load(path).events
    assert one[0].data is one[1].data and two[0].data is two[1].data
    assert one[0].data is not two[0].data


def test_data_nested_deeper_than_orjson_writes_still_load(tmp_path: Path) -> None:
    """orjson writes 254 levels and reads 1,024: data between the two load whole and equal."""
    deep: Any = []
    for _ in range(300):
        deep = [deep]
    datas = [{"deep": deep}, {"deep": deep}, {"path": "/"}]
    events = load(_save(tmp_path / "r.jsonl", datas)).events
    assert [event.data for event in events] == datas

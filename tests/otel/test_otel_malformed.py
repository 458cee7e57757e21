"""OTLP exports of recordings the loader accepts but whose values OTLP cannot carry as they
are (a string ``cpu_ns``, a list or dict ``method``, a boolean ``delayed``, integers beyond
64 bits, times before the epoch or past 2**64 ns): every request is exported, each kind of
repair said once in one line, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tracer.cli import main

HEADER: dict[str, Any] = {"format": "gateway-trace", "version": 1, "interface": "asgi"}


def _event(seq: int, t: int, kind: str, data: dict[str, Any], req: Any = 1, dur: Any = None) -> str:
    row = {"seq": seq, "t": t, "kind": kind, "req": req, "pid": 1, "tid": 1, "thread": "x"}
    return json.dumps({**row, "task": "t1", "dur": dur, "data": data})


def _start(t: int = 0, req: Any = 1, **data: Any) -> str:
    return _event(0, t, "request.start", {"method": "GET", "path": "/", **data}, req)


def _end(seq: int, t: int = 20, req: Any = 1) -> str:
    return _event(seq, t, "request.end", {"status": 200, "bytes_out": 3, "error": None}, req)


def _export(
    tmp_path: Path, capsys: Any, caplog: Any, lines: list[str], header: Any = None
) -> tuple[Any, str]:
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join([json.dumps(header or HEADER), *lines]) + "\n")
    out = tmp_path / "r.json"
    assert main(["export", str(path), "--to", "otlp-json", "-o", str(out)]) == 0
    # What the export logs goes to stderr (the command line's handler) or to pytest's capture.
    err = capsys.readouterr().err + "".join(
        f"{r.getMessage()}\n{r.exc_text or ''}" for r in caplog.records
    )
    assert "Traceback" not in err and not any(r.exc_info for r in caplog.records)
    spans = [
        span
        for resource in json.loads(out.read_text())["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    ]
    return spans, err


def _server(spans: list[Any]) -> Any:
    (server,) = [span for span in spans if span["kind"] == 2]
    return server


@pytest.mark.parametrize("cpu_ns", ["5", [5], {"n": 5}])
@pytest.mark.parametrize("ended", [True, False])
def test_a_non_numeric_cpu_ns_is_ignored(
    tmp_path: Path, capsys: Any, caplog: Any, cpu_ns: Any, ended: bool
) -> None:
    step = _event(1, 5, "sched.step", {"cpu_ns": cpu_ns, "awaiting": None}, dur=5)
    lines = [_start(), step, *([_end(2)] if ended else [])]
    spans, err = _export(tmp_path, capsys, caplog, lines)
    assert _server(spans)["name"] == "GET"
    assert "could not be made into spans" not in err


@pytest.mark.parametrize("method", [["GET"], {"m": "GET"}])
@pytest.mark.parametrize("ended", [True, False])
def test_a_method_that_is_no_string_names_the_span_http(
    tmp_path: Path, capsys: Any, caplog: Any, method: Any, ended: bool
) -> None:
    lines = [_start(method=method), *([_end(1)] if ended else [])]
    spans, err = _export(tmp_path, capsys, caplog, lines)
    assert _server(spans)["name"] == "HTTP"
    assert "could not be made into spans" not in err


def test_a_boolean_delayed_is_ignored(tmp_path: Path, capsys: Any, caplog: Any) -> None:
    blocked = _event(1, 10, "loop.blocked", {"location": "a.py:1", "delayed": True}, dur=5)
    spans, err = _export(tmp_path, capsys, caplog, [_start(), blocked, _end(2)])
    assert _server(spans)["name"] == "GET"
    assert "could not be made into spans" not in err


def test_integers_beyond_64_bits_are_written_as_strings(
    tmp_path: Path, capsys: Any, caplog: Any
) -> None:
    big = 2**63
    spans, err = _export(tmp_path, capsys, caplog, [_start(req=big), _end(1, req=big)])
    attributes = {a["key"]: a["value"] for a in _server(spans)["attributes"]}
    assert attributes["tracer.request_id"] == {"stringValue": str(big)}
    assert err.count("do not fit OTLP's 64 bits") == 1
    assert "Failed to encode" not in err


@pytest.mark.parametrize(
    ("unix_ns", "t", "start", "end"),
    [
        (None, -1, "0", None),
        (-(2**63), 5, "0", "0"),
        (2**64 - 1, 5, str(2**64 - 1), str(2**64 - 1)),
    ],
)
def test_times_outside_uint64_are_clamped_with_one_warning(
    tmp_path: Path,
    capsys: Any,
    caplog: Any,
    unix_ns: int | None,
    t: int,
    start: str,
    end: str | None,
) -> None:
    header = dict(HEADER)
    if unix_ns is not None:
        header["clock"] = {"unix_ns": unix_ns, "monotonic_ns": 0}
    spans, err = _export(tmp_path, capsys, caplog, [_start(t=t), _end(1, t=9)], header)
    server = _server(spans)
    assert server.get("startTimeUnixNano", "0") == start  # 0, a default, is left out
    if end is not None:
        assert server.get("endTimeUnixNano", "0") == end
    assert err.count("clamped") == 1
    assert "Value out of range" not in err

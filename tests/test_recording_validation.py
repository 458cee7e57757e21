"""The loader's shape checks: a line of the wrong JSON types is a broken line, a header field of
the wrong type is left out (docs/recording-format.md, "What tracer.load checks")."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

import tracer
from tracer import events as K
from tracer.cli import main
from tracer.errors import RecordingFormatError, TracerError
from tracer.events import Event
from tracer.recording import make_header, parse_event

pytestmark = pytest.mark.timeout(60)

HEADER = make_header(app="x:app", interface="asgi", server={"model": "loop"}, unix_ns=10**18)


def _event(n: int, **changes: Any) -> dict[str, Any]:
    """A valid request.start line (what a producer writes), with ``changes`` applied."""
    obj: dict[str, Any] = {
        "seq": n,
        "t": 1000 * (n + 1),
        "kind": K.REQUEST_START,
        "req": 1,
        "pid": 7,
        "tid": 8,
        "thread": "main",
        "task": None,
        "dur": None,
        "data": {"method": "GET", "path": "/"},
    }
    obj.update(changes)
    return obj


def _write(path: Path, header: dict[str, Any], lines: list[Any]) -> Path:
    text = [json.dumps(header)] + [
        line if isinstance(line, str) else json.dumps(line) for line in lines
    ]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


# A field of the wrong JSON type -> the words the error uses for it.
BAD_FIELDS = [
    ({"data": [1]}, '"data" is an array, not an object'),
    ({"data": "x"}, '"data" is a string, not an object'),
    ({"data": 0}, '"data" is an integer, not an object'),
    ({"data": False}, '"data" is a boolean, not an object'),
    ({"t": 1.5}, '"t" is a number, not an integer'),
    ({"t": "5"}, '"t" is a string, not an integer'),
    ({"t": None}, 'no "t"'),
    ({"seq": True}, '"seq" is a boolean, not an integer'),
    ({"kind": 5}, '"kind" is an integer, not a string'),
    ({"req": "1"}, '"req" is a string, not an integer or null'),
    ({"pid": "7"}, '"pid" is a string, not an integer'),
    ({"tid": 8.0}, '"tid" is a number, not an integer'),
    ({"thread": 3}, '"thread" is an integer, not a string'),
    ({"task": {}}, '"task" is an object, not a string or null'),
    ({"dur": "10"}, '"dur" is a string, not an integer or null'),
    ({"dur": -5}, '"dur" is negative (-5)'),
    # Past a signed 64-bit count of nanoseconds: the OTLP export crashed converting it.
    ({"t": 2**63}, '"t" is past 2**63 - 1 ns, the longest a recording holds'),
    ({"dur": 2**64 - 1}, '"dur" is past 2**63 - 1 ns, the longest a recording holds'),
]


@pytest.mark.parametrize("changes,reason", BAD_FIELDS, ids=[str(c) for c, _ in BAD_FIELDS])
def test_a_field_of_the_wrong_type_before_the_last_line_is_a_broken_line(
    tmp_path: Path, changes: dict[str, Any], reason: str
) -> None:
    """Line 3 of 4 with a field of the wrong type: RecordingFormatError naming line and field."""
    path = _write(tmp_path / "bad.jsonl", HEADER, [_event(0), _event(1, **changes), _event(2)])
    with pytest.raises(RecordingFormatError) as info:
        tracer.load(path)
    message = str(info.value)
    assert f'"{path}": line 3 is not a valid event ({reason}).' == message
    assert isinstance(info.value, TracerError)


@pytest.mark.parametrize(
    "line,reason",
    [
        ("[1, 2]", "it is an array, not an object"),
        ('"event"', "it is a string, not an object"),
        ("null", "it is null, not an object"),
        ('{"t": 5, "kind": "mark"}', 'no "seq"'),
        ('{"seq": 1, "t": 5}', 'no "kind"'),
        ("{not json", "not JSON"),
    ],
)
def test_a_line_that_is_not_an_event_object_is_a_broken_line(
    tmp_path: Path, line: str, reason: str
) -> None:
    """Not an object, a required field missing, not JSON: the same error, saying which."""
    path = _write(tmp_path / "bad.jsonl", HEADER, [_event(0), line, _event(2)])
    with pytest.raises(RecordingFormatError, match="line 3 is not a valid event") as info:
        tracer.load(path)
    assert f"({reason})." in str(info.value)


@pytest.mark.parametrize("changes,reason", BAD_FIELDS[:6], ids=[str(c) for c, _ in BAD_FIELDS[:6]])
def test_a_field_of_the_wrong_type_on_the_last_line_is_truncation(
    tmp_path: Path, changes: dict[str, Any], reason: str
) -> None:
    """The same line as the last one is skipped as a truncated line is."""
    path = _write(tmp_path / "cut.jsonl", HEADER, [_event(0), _event(1), _event(2, **changes)])
    loaded = tracer.load(path)
    assert loaded.truncated
    assert [e.seq for e in loaded.events] == [0, 1]


def test_null_or_absent_optional_fields_take_their_defaults(tmp_path: Path) -> None:
    """pid/tid/thread/data null or absent read as 0, 0, "", {}; req/task/dur stay null."""
    minimal = {"seq": 1, "t": 5, "kind": K.MARK}
    nulls = dict(_event(2), pid=None, tid=None, thread=None, data=None, req=None)
    path = _write(tmp_path / "ok.jsonl", HEADER, [minimal, nulls])
    loaded = tracer.load(path)
    assert not loaded.truncated
    first, second = loaded.events
    assert first == Event(seq=1, t=5, kind=K.MARK)
    assert (second.pid, second.tid, second.thread, second.data, second.req) == (0, 0, "", {}, None)
    assert type(first) is Event and first.data == second.data == {}


def test_parse_event_round_trips_what_producers_write() -> None:
    """parse_event(to_dict()) is the event itself; a wrong type is a ValueError saying why."""
    event = Event(
        3, 40, K.SCHED_STEP, req=2, pid=1, tid=9, thread="t", task="T", dur=5, data={"a": 1}
    )
    assert parse_event(event.to_dict()) == event
    assert type(parse_event(event.to_dict())) is Event
    with pytest.raises(ValueError, match='"data" is an array'):
        parse_event(dict(event.to_dict(), data=[]))


BAD_HEADERS = [
    ({"clock": "x"}, '"clock" is a string, not an object'),
    ({"clock": {"unix_ns": "1"}}, '"clock.unix_ns" is a string, not an integer'),
    (
        {"clock": {"unix_ns": 1, "monotonic_ns": 2.5}},
        '"clock.monotonic_ns" is a number, not an integer',
    ),
    ({"server": ["loop"]}, '"server" is an array, not an object'),
    ({"interface": 3}, '"interface" is an integer, not a string'),
    ({"app": {"name": "x"}}, '"app" is an object, not a string'),
    ({"demo": {"lang": ["en"]}}, '"demo.lang" is an array, not a string'),
    ({"load": 50}, '"load" is an integer, not an object'),
]


@pytest.mark.parametrize("changes,reason", BAD_HEADERS, ids=[str(c) for c, _ in BAD_HEADERS])
def test_a_header_field_of_the_wrong_shape_is_read_as_absent(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, changes: dict[str, Any], reason: str
) -> None:
    """A header field the readers use, of the wrong type: left out (as in a file written before
    it existed), with one warning naming it; the events are read as they are."""
    caplog.set_level(logging.WARNING, logger="tracer")
    path = _write(tmp_path / "bad.jsonl", {**HEADER, **changes}, [_event(0)])
    loaded = tracer.load(path)
    assert loaded.events == tracer.load(_write(tmp_path / "ok.jsonl", HEADER, [_event(0)])).events
    assert [record.getMessage() for record in caplog.records] == [
        f'"{path}": in its header, {reason}: read without it.'
    ]
    name, _, inner = reason.split('"')[1].partition(".")  # "clock.unix_ns": in clock
    assert (inner not in loaded.header[name]) if inner else (name not in loaded.header)


def test_null_and_absent_header_fields_are_accepted(tmp_path: Path) -> None:
    """A minimal header, or one with nulls, loads; a null clock means wall time from 0."""
    minimal = _write(tmp_path / "min.jsonl", {"format": "gateway-trace", "version": 1}, [_event(0)])
    assert len(tracer.load(minimal).events) == 1
    nulls = {**HEADER, "app": None, "interface": None, "server": None, "clock": None}
    loaded = tracer.load(_write(tmp_path / "nulls.jsonl", nulls, [_event(0)]))
    assert loaded.wall_ns(5) == 5
    assert loaded.title == "?"  # no app, interface or server: nothing to say but that
    library = make_header(app="myapp:app", interface="asgi")
    assert tracer.load(_write(tmp_path / "lib.jsonl", library, [_event(0)])).title == (
        "myapp:app · ASGI"
    )
    unknown = {**HEADER, "extra": [1, 2], "clock": {"unix_ns": 7, "zone": "UTC"}}
    assert tracer.load(_write(tmp_path / "extra.jsonl", unknown, [_event(0)])).wall_ns(1) == 8


COMMANDS = [
    ["export", "{path}", "--to", "perfetto", "-o", "{out}"],
    ["export", "{path}", "--to", "html", "-o", "{out}"],
    ["export", "{path}", "--to", "svg", "-o", "{out}"],
    ["export", "{path}", "--to", "otlp-json", "-o", "{out}"],
    ["replay", "{path}", "--screenshot", "{out}"],
]


def _run(command: list[str], path: Path, out: Path) -> int:
    return main([word.format(path=path, out=out) for word in command])


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[2:4]) or c[0] for c in COMMANDS])
@pytest.mark.parametrize(
    "header,line,message",
    [
        ({}, _event(1, data=[1]), 'line 3 is not a valid event ("data" is an array'),
        ({}, _event(1, data="x"), 'line 3 is not a valid event ("data" is a string'),
    ],
    ids=["data-array", "data-string"],
)
def test_the_cli_says_one_line_and_exits_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    header: dict[str, Any],
    line: dict[str, Any],
    message: str,
) -> None:
    """export (every file target) and replay --screenshot: exit 2, one stderr line, no file."""
    path = _write(tmp_path / "bad.jsonl", {**HEADER, **header}, [_event(0), line, _event(2)])
    out = tmp_path / "out.svg"  # a name every command takes (--screenshot: SVG only)
    assert _run(command, path, out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and str(path) in err
    assert "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("command", COMMANDS[::2], ids=["perfetto", "svg", "replay"])
def test_the_cli_reads_a_file_whose_bad_line_is_the_last(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """A wrong-typed last line is a truncated one: the command succeeds without it."""
    path = _write(tmp_path / "cut.jsonl", HEADER, [_event(0), _event(1, data=[1])])
    out = tmp_path / "out.svg"  # a name every command takes (--screenshot: SVG only)
    assert _run(command, path, out) == 0
    assert out.exists()
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "version,words",
    [
        ("1", 'its header has a string as its "version" (a positive integer)'),
        (True, 'its header has a boolean as its "version" (a positive integer)'),
        (None, 'its header has no "version" (a positive integer)'),
        (0, 'its header has an integer as its "version" (a positive integer)'),
    ],
)
def test_a_header_version_that_is_not_a_positive_integer_is_invalid(
    tmp_path: Path, version: Any, words: str
) -> None:
    """Not "upgrade to read version 1": the file is invalid, and the message says why."""
    header = {**HEADER, "version": version}
    if version is None:
        del header["version"]
    path = _write(tmp_path / "v.jsonl", header, [_event(0)])
    with pytest.raises(RecordingFormatError) as info:
        tracer.load(path)
    assert str(info.value) == f'"{path}" is not a valid gateway-trace recording: {words}.'


def test_compression_is_read_off_the_first_bytes_not_the_name(tmp_path: Path) -> None:
    """A gzip recording named .jsonl and a plain one named .jsonl.gz both read; a file that
    is neither UTF-8 nor gzip says so in words, not an exception's class name."""
    import gzip

    plain = _write(tmp_path / "plain.jsonl", HEADER, [_event(0), _event(1)])
    renamed = tmp_path / "packed.jsonl"
    renamed.write_bytes(gzip.compress(plain.read_bytes()))
    assert [e.seq for e in tracer.load(renamed).events] == [0, 1]
    named_gz = tmp_path / "plain.jsonl.gz"
    named_gz.write_bytes(plain.read_bytes())
    assert [e.seq for e in tracer.load(named_gz).events] == [0, 1]
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(RecordingFormatError, match=r"\(it is not UTF-8 text\)\.$"):
        tracer.load(binary)
    broken = tmp_path / "broken.jsonl.gz"
    packed = bytearray(gzip.compress(plain.read_bytes()))
    packed[20:28] = b"\xff" * 8  # inside the deflate stream
    broken.write_bytes(bytes(packed))
    with pytest.raises(RecordingFormatError, match="gzip stream is broken"):
        tracer.load(broken)


@pytest.mark.parametrize(
    "line",
    [
        "[" * 100_000 + "]" * 100_000,  # json.loads: RecursionError, a traceback in summary
        json.dumps({"seq": 0, "t": 10**30, "kind": "mark"}),  # summary took it: wall_s 1e21
    ],
    ids=["nested past any depth", "an integer past 64 bits"],
)
def test_summary_reads_lines_as_load_does(tmp_path: Path, line: str) -> None:
    """``trace summary`` streams the file with its own loop: it parses each line as
    ``tracer.load`` does, so a line one rejects the other rejects too, in one line, exit 2."""
    from tracer.digest import digest_file

    path = tmp_path / "odd.jsonl"
    good = json.dumps({"seq": 1, "t": 5, "kind": "mark"})
    path.write_text(json.dumps(make_header()) + "\n" + line + "\n" + good + "\n")
    with pytest.raises(RecordingFormatError, match="line 2 is not a valid event"):
        tracer.load(path)
    with pytest.raises(RecordingFormatError, match="line 2 is not a valid event"):
        digest_file(path)
    assert main(["summary", str(path)]) == 2


@pytest.mark.parametrize("form", [[], ["--json"]], ids=["report", "json"])
def test_summary_warns_of_a_cut_short_recording_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], form: list[str]
) -> None:
    """The report or the JSON goes to stdout as usual; one warning line on stderr says the
    last line was left out, so a script reading the JSON learns the data is incomplete."""
    path = tmp_path / "cut.jsonl"
    whole = json.dumps(_event(2))
    path.write_text(
        "\n".join([json.dumps(HEADER), json.dumps(_event(0)), json.dumps(_event(1))])
        + "\n"
        + whole[: len(whole) // 2],
        encoding="utf-8",
    )
    assert main(["summary", str(path), *form]) == 0
    out, err = capsys.readouterr()
    assert err.count("\n") == 1
    assert err.startswith(f"trace: warning: {path} ends with a cut-short line")
    if form:
        assert json.loads(out)["requests"] == 1
    else:
        assert "cut-short" in out


def test_summary_of_a_whole_recording_says_nothing_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path / "whole.jsonl", HEADER, [_event(0), _event(1)])
    assert main(["summary", str(path), "--json"]) == 0
    assert capsys.readouterr().err == ""

"""Recordings written by older releases read back (docs/recording-format.md, "What tracer.load
checks"): releases before the reader checked the header let ``Recorder(path, **header)``
write a field the readers use with any value (``host="web-3"``, ``label=7``); such a file is
read as one written before that field existed, with one warning, while a file whose
``format`` or ``version`` says it is no recording this release reads is still refused."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

import tracer
from sample_apps.hello import application
from tracer.cli import main
from tracer.errors import RecordingFormatError, UsageError
from tracer.recording import header_problem

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parent.parent

# What older releases wrote and read back, and what the current reader then refused.
OLDER_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"host": "web-3"}, '"host" is a string, not an object'),
    ({"server": "gunicorn"}, '"server" is a string, not an object'),
    ({"load": "nightly"}, '"load" is a string, not an object'),
    ({"demo": "mine"}, '"demo" is a string, not an object'),
    ({"label": 7}, '"label" is an integer, not a string'),
    ({"app": 123}, '"app" is an integer, not a string'),
    ({"app": ["web", "api"]}, '"app" is an array, not a string'),
]


def _recorded(path: Path) -> Path:
    """A real recording: three requests to the hello WSGI app through the shim."""
    recorder = tracer.Recorder(path, app="sample_apps.hello:application")
    app = tracer.instrument(application, recorder=recorder)
    for _ in range(3):
        environ: dict[str, Any] = {}
        setup_testing_defaults(environ)
        body = app(environ, lambda status, headers, exc_info=None: None)
        b"".join(body)
        body.close()
    recorder.close()
    return path


def _with_header(source: Path, path: Path, **fields: Any) -> Path:
    """``source`` with ``fields`` in its header, as ``Recorder(path, **fields)`` of an older
    release wrote it (no ``writer`` field then); a field given as None is left out."""
    header, *events = source.read_text(encoding="utf-8").splitlines()
    written = {k: v for k, v in json.loads(header).items() if k != "writer"}
    for name, value in fields.items():
        if value is None:
            written.pop(name, None)
        else:
            written[name] = value
    path.write_text("\n".join([json.dumps(written), *events]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _recorded(tmp_path_factory.mktemp("compat") / "run.jsonl")


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("fields,reason", OLDER_FIELDS, ids=[str(f) for f, _ in OLDER_FIELDS])
def test_an_older_releases_header_field_is_read_as_absent(
    recorded: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    fields: dict[str, Any],
    reason: str,
) -> None:
    """``tracer.load`` reads every event, the header without the field (as a file written
    before it existed reads), and warns once naming the field; the summary is that file's."""
    caplog.set_level(logging.WARNING, logger="tracer")
    old = _with_header(recorded, tmp_path / "old.jsonl", **fields)
    absent = _with_header(recorded, tmp_path / "absent.jsonl", **dict.fromkeys(fields))
    loaded = tracer.load(old)
    assert _warnings(caplog) == [f'"{old}": in its header, {reason}: read without it.']
    before = tracer.load(absent)
    assert loaded.header == before.header
    assert loaded.events == before.events == tracer.load(recorded).events
    assert len(loaded.requests()) == 3
    assert tracer.summarize(loaded) == tracer.summarize(before)


def test_every_misfit_of_one_header_is_left_out_with_one_warning(
    recorded: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Fields and fields inside objects (``clock.unix_ns``): one line names them all."""
    caplog.set_level(logging.WARNING, logger="tracer")
    old = _with_header(
        recorded,
        tmp_path / "old.jsonl",
        host="web-3",
        label=7,
        clock={"monotonic_ns": 5, "unix_ns": "1795814244923460587"},
    )
    loaded = tracer.load(old)
    assert _warnings(caplog) == [
        f'"{old}": in its header, "label" is an integer, not a string; "host" is a string, '
        'not an object; "clock.unix_ns" is a string, not an integer: read without them.'
    ]
    assert "host" not in loaded.header and "label" not in loaded.header
    assert loaded.header["clock"] == {"monotonic_ns": 5}
    assert loaded.wall_ns(10) == 10  # no wall time: as a header without one
    assert len(loaded.requests()) == 3


COMMANDS = [
    ["summary", "{path}"],
    ["export", "{path}", "--to", "perfetto", "-o", "{out}"],
    ["export", "{path}", "--to", "otlp-json", "-o", "{out}"],
    ["export", "{path}", "--to", "html", "-o", "{out}"],
    ["export", "{path}", "--to", "svg", "-o", "{out}"],
    ["replay", "{path}", "--screenshot", "{out}"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[2:4]) or c[0] for c in COMMANDS])
def test_the_commands_read_such_a_file(
    recorded: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    """summary, every file export and replay: exit 0 and their output, one warning."""
    old = _with_header(recorded, tmp_path / "old.jsonl", host="web-3")
    out = tmp_path / "out.svg"  # a name every command takes (--screenshot: SVG only)
    assert main([word.format(path=old, out=out) for word in command]) == 0
    assert out.exists() or command[0] == "summary"
    err = capsys.readouterr().err
    warned = f'trace: warning: "{old}": in its header, "host" is a string, not an object: read without it.'
    assert [line for line in err.splitlines() if "in its header" in line] == [warned]
    assert "error" not in err and "Traceback" not in err


def test_trace_summary_says_it_in_one_line_on_stderr(recorded: Path, tmp_path: Path) -> None:
    """The command as a user runs it: its report on stdout, the warning alone on stderr."""
    old = _with_header(recorded, tmp_path / "old.jsonl", server="gunicorn")
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "summary", "--json", str(old)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["requests"] == 3
    assert done.stderr.splitlines() == [
        f'trace: warning: "{old}": in its header, "server" is a string, not an object: '
        "read without it."
    ]


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"version": 2}, "is a version 2 recording; this gateway-tracer reads up to version 1"),
        ({"version": "1"}, 'its header has a string as its "version" (a positive integer)'),
        ({"format": None}, 'is not a gateway-trace recording (no "format": "gateway-trace"'),
    ],
    ids=["newer", "version-string", "no-format"],
)
def test_format_and_version_still_refuse_the_file(
    recorded: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fields: dict[str, Any],
    message: str,
) -> None:
    """What says the file is no recording this release reads is no field to leave out."""
    old = _with_header(recorded, tmp_path / "old.jsonl", host="web-3", **fields)
    with pytest.raises(RecordingFormatError) as refused:
        tracer.load(old)
    assert message in str(refused.value)
    assert main(["summary", str(old)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_the_recorder_still_writes_no_such_field(tmp_path: Path) -> None:
    """``header_problem`` is still the recorder's rule: a field ``load`` would leave out is
    refused before anything is written."""
    assert header_problem({"host": "web-3"}) == '"host" is a string, not an object'
    assert header_problem({"host": {"cpus": 2}, "demo": {"lang": "en"}}) is None
    with pytest.raises(UsageError, match='"host" is a string, not an object'):
        tracer.Recorder(tmp_path / "new.jsonl", host="web-3")
    assert not (tmp_path / "new.jsonl").exists()


def test_unknown_kinds_change_no_summary(recorded: Path, tmp_path: Path) -> None:
    """An event of a kind no release writes, with or without a request of its own, is kept by
    ``load`` and changes nothing the summary says (readers ignore kinds they do not know)."""
    lines = recorded.read_text(encoding="utf-8").splitlines()
    last = json.loads(lines[-1])
    known = json.loads(lines[1])
    unknown = [
        {**last, "seq": 10**6, "kind": "future.kind", "req": 999_999, "data": {}},
        {**known, "seq": 10**6 + 1, "kind": "future.kind", "dur": 5, "data": {"x": 1}},
    ]
    path = tmp_path / "unknown.jsonl"
    path.write_text("\n".join([*lines, *map(json.dumps, unknown)]) + "\n", encoding="utf-8")
    loaded = tracer.load(path)
    assert len(loaded.events) == len(lines) + 1
    assert tracer.summarize(loaded) == tracer.summarize(tracer.load(recorded))

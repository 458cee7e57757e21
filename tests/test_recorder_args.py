"""``Recorder``'s arguments, ``save``'s and ``load``'s: a mistake is a ``UsageError`` raised
before anything changes (no file written, no path claimed), and the header a recorder accepts
is one ``tracer.load`` reads back (the reader's own rule, in the reader's words)."""

from __future__ import annotations

import json
import math
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import tracer
from tracer import events as K
from tracer.errors import UsageError
from tracer.recorder import Recorder
from tracer.recording import header_problem, make_header

pytestmark = pytest.mark.timeout(30)

UNREADABLE_HEADERS: list[dict[str, Any]] = [
    {"app": 123},
    {"label": 5},
    {"server": "uvicorn"},
    {"load": [1]},
    {"demo": {"lang": 3}},
    {"host": [1]},
    {"interface": 7},
    {"source": ["real"]},
]


def _record_one(path: Path, **arguments: Any) -> None:
    recorder = Recorder(path, **arguments)
    recorder.emit(K.MARK, None, {"label": "x"})
    recorder.close()


def _refused(path: Path, **arguments: Any) -> str:
    """The message of the UsageError ``Recorder(path, **arguments)`` raises; the path is left
    unwritten and unclaimed (a recorder made for it next writes it, not ``run.2.jsonl``)."""
    with pytest.raises(UsageError) as raised:
        Recorder(path, **arguments)
    assert not path.exists()
    after = Recorder(path)
    assert after.path == str(path)
    after.close()
    path.unlink()
    return str(raised.value)


@pytest.mark.parametrize("fields", UNREADABLE_HEADERS, ids=lambda f: next(iter(f)))
def test_a_header_load_would_refuse_is_refused_with_the_readers_words(
    tmp_path: Path, fields: dict[str, Any]
) -> None:
    """``Recorder(app=123)`` and the like: refused up front with the reason ``tracer.load``
    gives when it reads such a header (as older releases wrote it) without that field."""
    message = _refused(tmp_path / "h.jsonl", **fields)
    header = make_header(**fields)
    problem = header_problem(header)
    assert problem is not None
    assert message == (
        f"Recorder: in the header, {problem}; tracer.load would read the recording without it."
    )
    written = tmp_path / "written.jsonl"
    written.write_text(json.dumps(header) + "\n")
    name = next(iter(fields))
    read = tracer.load(written).header
    assert "lang" not in read["demo"] if name == "demo" else name not in read


@pytest.mark.parametrize("name", ["format", "version", "monotonic_ns", "unix_ns"])
def test_the_recorders_own_header_fields_cannot_be_given(tmp_path: Path, name: str) -> None:
    """``format``/``version`` (a recording ``load`` refuses as foreign or newer) and the clock
    readings (a bare TypeError before) are the recorder's own."""
    value = {"format": "x", "version": 2}.get(name, 5)
    assert f"{name} cannot be given" in _refused(tmp_path / "h.jsonl", **{name: value})


def test_readable_header_fields_are_kept_and_read_back(tmp_path: Path) -> None:
    """Valid fields, a field of one's own and null ones go to the header and load back."""
    path = tmp_path / "ok.jsonl"
    fields = {
        "app": "m:app",
        "interface": "asgi",
        "source": "traced",
        "label": "side",
        "server": {"model": "loop"},
        "load": {"requests": 1},
        "demo": {"lang": "en"},
        "mine": [1, 2],
        "host": None,
    }
    _record_one(path, **fields)
    header = tracer.load(path).header
    assert {name: header[name] for name in fields if name != "host"} == {
        name: value for name, value in fields.items() if name != "host"
    }


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"keep": "yes"}, "keep must be True, False or None, not 'yes'"),
        ({"start_ns": "x"}, "start_ns must be an integer"),
        ({"start_ns": 1.5}, "start_ns must be an integer"),
        ({"flush_interval": 0}, "flush_interval must be a positive number of seconds"),
        ({"flush_interval": -1}, "flush_interval must be a positive number of seconds"),
        ({"flush_interval": math.inf}, "flush_interval must be a positive number of seconds"),
        ({"flush_interval": math.nan}, "flush_interval must be a positive number of seconds"),
        ({"flush_interval": "0.2"}, "flush_interval must be a positive number of seconds"),
        ({"clock": {}}, "clock must be a function returning integer nanoseconds"),
        ({"wall_clock": 5}, "wall_clock must be a function returning integer nanoseconds"),
        ({"clock": time.monotonic}, '"clock.monotonic_ns" is a number, not an integer'),
        ({"wall_clock": time.time}, '"clock.unix_ns" is a number, not an integer'),
    ],
    ids=lambda v: repr(v) if isinstance(v, dict) else "",
)
def test_arguments_of_the_wrong_kind_are_usage_errors(
    tmp_path: Path, arguments: dict[str, Any], words: str
) -> None:
    """Each was accepted (a writer that spins at 0, dies of OverflowError at inf, a
    recording of float times) or failed later with a bare TypeError."""
    assert words in _refused(tmp_path / "a.jsonl", **arguments)


def test_a_refused_flush_interval_starts_no_writer_thread(tmp_path: Path) -> None:
    """``flush_interval=inf`` used to start a writer thread that died at once (OverflowError)."""
    before = {t.ident for t in threading.enumerate()}
    with pytest.raises(UsageError):
        Recorder(tmp_path / "f.jsonl", flush_interval=math.inf)
    started = [t for t in threading.enumerate() if t.ident not in before]
    assert [t.name for t in started if t.name == "gateway-tracer-writer"] == []


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("", 'takes the path of a recording file, like "run.jsonl", not ""'),
        (123, "takes the path of a recording file (a str, bytes or os.PathLike), not int 123"),
        (None, None),
    ],
)
def test_recorder_and_save_refuse_what_names_no_file(path: Any, words: str | None) -> None:
    """``Recorder("")`` became the working directory and failed at its first write or at
    exit; ``Recorder(123)`` and ``save("")`` / ``save(123)`` raised bare TypeError or
    FileNotFoundError."""
    recorder = Recorder()
    if words is None:  # None is an in-memory recorder, but no place to save to
        with pytest.raises(UsageError, match="save takes the path of a recording file"):
            recorder.save(path)
        return
    with pytest.raises(UsageError) as raised:
        Recorder(path)
    assert str(raised.value) == f"Recorder {words}."
    with pytest.raises(UsageError) as raised:
        recorder.save(path)
    assert str(raised.value) == f"save {words}."


def test_a_folder_is_refused_naming_a_file_in_it(tmp_path: Path) -> None:
    """A folder as the recording (IsADirectoryError at the first write or at ``save``)."""
    suggestion = tmp_path / "run.jsonl"
    for make in (Recorder, Recorder().save):
        with pytest.raises(UsageError) as raised:
            make(tmp_path)
        assert f'"{tmp_path}" is a folder; give the path of a file in it, like "{suggestion}"' in (
            str(raised.value)
        )
    assert list(tmp_path.iterdir()) == []


def test_a_path_given_as_bytes_or_pathlike_is_the_file_it_names(tmp_path: Path) -> None:
    """``bytes`` and ``os.PathLike`` name the same file as their text (bytes once made a file
    called ``b'...'``)."""
    _record_one(tmp_path / "p.jsonl")
    _record_one(bytes(tmp_path / "b.jsonl"))  # type: ignore[arg-type]
    recorder = Recorder(bytes(tmp_path / "c.jsonl"))  # type: ignore[arg-type]
    assert recorder.path == str(tmp_path / "c.jsonl")
    recorder.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.jsonl", "c.jsonl", "p.jsonl"]
    assert tracer.load(bytes(tmp_path / "p.jsonl")).header["format"] == "gateway-trace"


@pytest.mark.parametrize("what", [5, None, ["run.jsonl"]])
def test_load_refuses_what_is_no_path(what: Any) -> None:
    """``tracer.load(5)`` raised a bare TypeError."""
    with pytest.raises(UsageError) as raised:
        tracer.load(what)
    assert str(raised.value) == (
        "load takes the path of a recording file (a str, bytes or os.PathLike), not "
        f"{type(what).__name__} {what!r}."
    )


def test_loads_refuses_what_is_no_text() -> None:
    """``tracer.recording.loads(5)`` raised a bare AttributeError."""
    from tracer.recording import loads

    with pytest.raises(UsageError, match="loads takes the recording's text"):
        loads(5)  # type: ignore[arg-type]

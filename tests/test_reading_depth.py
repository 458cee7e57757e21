"""A recording line nested deeper than the readers take (orjson's 1,024 levels) is valid JSON:
the error says it is nested too deep, not that it is "not JSON", in every reader (``load``,
the exporters' ``RecordingFile``, the digest) and on the command line (one line, exit 2). A
whole last line so nested was not cut short by a crash: it is refused too; a last line cut
short is skipped, as any other."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracer import events as K
from tracer.cli import main
from tracer.digest import digest_file
from tracer.errors import RecordingFormatError
from tracer.export.stream import RecordingFile
from tracer.recorder import Recorder
from tracer.recording import load

pytestmark = pytest.mark.timeout(60)

TOO_DEEP = "nested deeper than 1,024 levels, the most the readers take"


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def _recording(path: Path, where: int, levels: int = 1_100, *, cut: bool = False) -> str:
    """Three requests, line ``where`` (from 1, the header) holding an array of ``levels``;
    ``cut``: the file then ends without its last newline, one character short."""
    rec = Recorder()
    for i in range(3):
        rec.emit(K.REQUEST_START, i, {"path": "/p"})
    rec.save(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[where - 1] = lines[where - 1].replace('"/p"', f'"/p","deep":{_nested(levels)}')
    json.loads(lines[where - 1].replace(_nested(levels), "[]"))  # JSON but for its depth
    text = "\n".join(lines) + "\n"
    path.write_text(text[:-2] if cut else text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("where", [2, 3, 4])
def test_a_line_nested_too_deep_is_said_to_be(tmp_path: Path, where: int) -> None:
    """First, middle and (whole) last event line, in each reader."""
    path = _recording(tmp_path / "deep.jsonl", where)
    message = f'"{path}": line {where} is not a valid event ({TOO_DEEP}).'
    with pytest.raises(RecordingFormatError) as loaded:
        load(path)
    assert str(loaded.value) == message
    with pytest.raises(RecordingFormatError) as streamed:
        list(RecordingFile(path).read())
    assert str(streamed.value) == message
    with pytest.raises(RecordingFormatError) as digested:
        digest_file(path)
    assert str(digested.value) == message


@pytest.mark.parametrize("command", [["summary"], ["export", "--to", "perfetto", "-o", "-"]])
def test_the_command_line_says_it_in_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    path = _recording(tmp_path / "deep.jsonl", 3)
    capsys.readouterr()
    assert main([command[0], path, *command[1:]]) == 2
    out, err = capsys.readouterr()
    assert err == f'trace: error: "{path}": line 3 is not a valid event ({TOO_DEEP}).\n'
    assert out == ""


def test_a_line_at_the_readers_depth_is_read(tmp_path: Path) -> None:
    """1,024 levels, counting the event's object and its ``data``: an event like any other."""
    path = _recording(tmp_path / "deepest.jsonl", 3, levels=1_024 - 2)
    loaded = load(path)
    assert [e.req for e in loaded.events] == [0, 1, 2]
    deep, levels = loaded.events[1].data["deep"], 1
    while deep:  # walked, not compared: ``==`` recurses past Python's own limit
        deep, levels = deep[0], levels + 1
    assert (deep, levels) == ([], 1_024 - 2)


def test_a_last_line_cut_short_is_skipped_however_deep(tmp_path: Path) -> None:
    """A crash's cut last line is truncation, whatever it held before the cut."""
    path = _recording(tmp_path / "cut.jsonl", 4, cut=True)
    loaded = load(path)
    assert loaded.truncated and [e.req for e in loaded.events] == [0, 1]
    assert digest_file(path)[0].truncated

"""A ``.gz`` recording its writer has not finished is worded as a plain one is.

Read while it is written (or after its process was killed between two writes), a ``.gz``
stream stops where its writer last flushed it, without its trailer: the reader takes it as cut
short. No line of it was, though: the warning says what a plain file's ``"writer": "open"``
makes it say, that the process was killed or is still writing the file. A whole stream whose
last line was cut before it was compressed still says the line was cut.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

import tracer
from tracer.cli import main
from tracer.events import Event
from tracer.recording import RecordingWriter, make_header


def _still_writing(path: Path) -> str:
    return (
        f"trace: warning: {path} ends before its run did (its process was killed, or is still "
        "writing it): it holds the events written until then.\n"
    )


@pytest.mark.parametrize("name", ["run.jsonl", "run.jsonl.gz"])
def test_a_recording_being_written_says_so_whatever_its_compression(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / name
    writer = RecordingWriter(path, make_header())
    try:
        writer.write([Event(0, 1, "mark", data={"label": "a"})])
        assert main(["summary", str(path), "--json"]) == 0
        assert capsys.readouterr().err == _still_writing(path)
        writer.write([Event(1, 2, "mark", data={"label": "b"})])  # the same after more
        assert main(["summary", str(path), "--json"]) == 0
        assert capsys.readouterr().err == _still_writing(path)
    finally:
        writer.close()
    assert main(["summary", str(path), "--json"]) == 0
    assert capsys.readouterr().err == ""
    assert [e.data["label"] for e in tracer.load(path).events] == ["a", "b"]


def test_a_whole_gz_stream_with_a_cut_last_line_says_the_line_was_cut(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cut.jsonl.gz"
    whole = json.dumps({"seq": 0, "t": 1, "kind": "mark", "data": {"label": "a"}})
    text = json.dumps(make_header()) + "\n" + whole + "\n" + whole[:20]
    path.write_bytes(gzip.compress(text.encode()))
    assert main(["summary", str(path), "--json"]) == 0
    assert capsys.readouterr().err == (
        f"trace: warning: {path} ends with a cut-short line (the run was interrupted): it is "
        "left out.\n"
    )


def test_only_a_gzip_stream_left_at_a_flush_is_left_open(tmp_path: Path) -> None:
    """``RecordingWriter.left_open``: not a finished stream, a plain file or a tiny one."""
    gz, plain, tiny = tmp_path / "a.jsonl.gz", tmp_path / "a.jsonl", tmp_path / "t.jsonl.gz"
    writer = RecordingWriter(gz, make_header())
    assert RecordingWriter.left_open(gz)
    writer.close()
    assert not RecordingWriter.left_open(gz)
    RecordingWriter(plain, make_header()).close()
    tiny.write_bytes(b"\x1f\x8b")
    for path in (plain, tiny, tmp_path / "none.jsonl.gz"):
        assert not RecordingWriter.left_open(path)


@pytest.mark.parametrize("name", ["run.jsonl", "run.jsonl.gz"])
def test_the_report_words_a_recording_being_written_alike_whatever_its_compression(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The report's own line (not only the warning) says killed or still writing."""
    path = tmp_path / name
    writer = RecordingWriter(path, make_header())
    try:
        writer.write([Event(0, 1, "mark", data={"label": "a"})])
        assert main(["summary", str(path)]) == 0
        said = " ".join(capsys.readouterr().out.split())
        assert "ends before its run did (its process was killed, or is still writing it)" in said
        assert "cut-short" not in said
    finally:
        writer.close()

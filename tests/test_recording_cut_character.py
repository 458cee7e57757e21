"""A recording cut inside a multi-byte UTF-8 character on its last line is a truncated
recording like any other (docs/recording-format.md): the loader, ``trace summary`` and its
streaming digest skip the cut line and say so, while a broken character elsewhere is still a
file that is not UTF-8 text."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

import tracer
from tracer import events as K
from tracer.cli import main
from tracer.digest import digest_file
from tracer.errors import RecordingFormatError
from tracer.recording import make_header

pytestmark = pytest.mark.timeout(60)

HEADER = make_header(app="x:app", interface="asgi", server={"model": "loop"}, unix_ns=10**18)


def _line(n: int, path: str = "/") -> bytes:
    """A ``request.start`` line of request ``n`` (UTF-8, as producers write it)."""
    obj = {
        "seq": n,
        "t": 1000 * (n + 1),
        "kind": K.REQUEST_START,
        "req": n + 1,
        "pid": 7,
        "tid": 8,
        "thread": "main",
        "task": None,
        "dur": None,
        "data": {"method": "GET", "path": path},
    }
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def _cut_inside(line: bytes, char: str) -> bytes:
    """``line`` up to and including the first byte of ``char`` (a multi-byte character)."""
    return line[: line.index(char.encode("utf-8")) + 1]


def _recording(last: bytes) -> bytes:
    """A header, two whole event lines, then ``last`` (with no newline)."""
    head = json.dumps(HEADER).encode("utf-8")
    return b"\n".join([head, _line(0), _line(1)]) + b"\n" + last


@pytest.mark.parametrize("char", ["é", "€", "😀"], ids=["2 bytes", "3 bytes", "4 bytes"])
def test_a_last_line_cut_inside_a_character_is_a_truncated_line(tmp_path: Path, char: str) -> None:
    """As a last line cut between ASCII characters: the two whole events, ``truncated``."""
    path = tmp_path / "cut.jsonl"
    path.write_bytes(_recording(_cut_inside(_line(2, f"/caf{char}"), char)))
    loaded = tracer.load(path)
    assert loaded.truncated
    assert [e.req for e in loaded.events] == [1, 2]
    ascii_cut = tmp_path / "ascii.jsonl"
    ascii_cut.write_bytes(_recording(_line(2)[:40]))
    assert tracer.load(ascii_cut).events == loaded.events


def test_a_gzip_recording_cut_inside_a_character_reads_the_same(tmp_path: Path) -> None:
    """Compressed whole, the same bytes read the same: two events, truncated."""
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(gzip.compress(_recording(_cut_inside(_line(2, "/café"), "é"))))
    loaded = tracer.load(path)
    assert loaded.truncated and [e.req for e in loaded.events] == [1, 2]


def test_the_summary_warns_as_for_any_cut_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``trace summary --json``: exit 0, the summary of the whole lines on stdout, and the
    one-line warning of a cut-short recording on stderr (it said: not UTF-8 text, exit 2)."""
    path = tmp_path / "cut.jsonl"
    path.write_bytes(_recording(_cut_inside(_line(2, "/café"), "é")))
    recording, digest = digest_file(path)
    assert recording.truncated and len(digest.requests()) == 2
    assert main(["summary", str(path), "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["requests"] == 2
    assert err.count("\n") == 1
    assert err.startswith(f"trace: warning: {path} ends with a cut-short line")


def test_a_header_cut_inside_a_character_is_no_recording(tmp_path: Path) -> None:
    """A file that is only a header cut short is refused as any cut header is."""
    header = json.dumps({**HEADER, "app": "café:app"}, ensure_ascii=False).encode("utf-8")
    path = tmp_path / "head.jsonl"
    path.write_bytes(_cut_inside(header, "é"))
    with pytest.raises(RecordingFormatError, match="its first line is not JSON"):
        tracer.load(path)


@pytest.mark.parametrize(
    "bad",
    [
        b"\xc3\n",  # a character cut, then the line goes on: written so, not cut by a crash
        b"\xff",  # never UTF-8, even as the last byte
    ],
    ids=["cut then newline", "invalid byte"],
)
def test_a_broken_character_that_is_no_cut_is_still_not_utf8(tmp_path: Path, bad: bytes) -> None:
    """Only data ending inside a character is a cut; other bad bytes are a foreign file."""
    path = tmp_path / "bad.jsonl"
    path.write_bytes(_recording(_line(2)[:40] + bad))
    with pytest.raises(RecordingFormatError, match=r"\(it is not UTF-8 text\)"):
        tracer.load(path)

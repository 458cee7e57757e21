"""``tracer.cli.encoding``: output a stream whose encoding is not UTF-8 can take. Known glyphs
become ASCII stand-ins, others escapes, never a ``UnicodeEncodeError``; a stream is fitted
only when its encoding needs it and its errors are Python's default."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from rich.console import Console

from tracer.cli import main
from tracer.cli.encoding import (
    STAND_INS,
    fit_stream,
    no_ui_line,
    register,
    stand_in,
    ui_cannot_show,
)


def _stream(encoding: str, errors: str = "strict") -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors=errors)


def _written(stream: io.TextIOWrapper) -> bytes:
    stream.flush()
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue()


def test_the_report_glyphs_have_ascii_stand_ins() -> None:
    """Each glyph the report, the progress lines and the captions use reads as ASCII."""
    pairs = {
        "·": ".",
        "…": "...",
        "─": "-",
        "━": "-",
        "│": "|",
        "┃": "|",
        "┼": "+",
        "╇": "+",
        "┏": "+",
        "╱": "/",
        "✖": "x",
        "→": "->",
        "←": "<-",
        "×": "x",
        "µ": "u",
        "—": "-",
        "é": "e",
        "：": ": ",
        "，": ", ",
        "（": "(",
        "█": "#",
        "▚": "#",
    }
    assert {char: stand_in(char) for char in pairs} == pairs


def test_text_without_a_stand_in_is_escaped() -> None:
    """Chinese under ASCII keeps its code points, as Python writes them on standard error."""
    assert stand_in("中") == "\\u4e2d"
    assert stand_in("\U0001f600") == "\\U0001f600"


def test_a_fitted_ascii_stream_writes_stand_ins_instead_of_raising() -> None:
    stream = _stream("ascii")
    assert fit_stream(stream) is True
    assert stream.errors == STAND_INS
    stream.write("a · b … c ─│┼ 中 ✖ → é\n")
    assert _written(stream) == b"a . b ... c -|+ \\u4e2d x -> e\n"


def test_latin1_keeps_what_it_can_encode() -> None:
    """Only what latin-1 lacks is replaced: its own ``·`` and ``é`` are written as they are."""
    stream = _stream("latin-1")
    fit_stream(stream)
    stream.write("· é … 中\n")
    assert _written(stream) == "· é ... \\u4e2d\n".encode("latin-1")


def test_a_surrogate_escaped_byte_is_written_back_as_that_byte() -> None:
    """A file name read under the C locale (``surrogateescape``) round-trips, as it did."""
    stream = _stream("ascii", "surrogateescape")
    assert fit_stream(stream) is True
    stream.write(b"caf\xe9.jsonl".decode("ascii", "surrogateescape") + " · \n")
    assert _written(stream) == b"caf\xe9.jsonl . \n"


def test_utf8_and_a_chosen_handler_are_left_alone() -> None:
    utf8 = _stream("utf-8")
    chosen = _stream("ascii", "replace")  # PYTHONIOENCODING=ascii:replace
    assert fit_stream(utf8) is False and utf8.errors == "strict"
    assert fit_stream(chosen) is False and chosen.errors == "replace"
    assert fit_stream(io.StringIO()) is False  # no encoding to fit


def test_register_is_idempotent() -> None:
    assert register() == register() == STAND_INS


def test_the_report_prints_on_an_ascii_stream(tmp_path: Path) -> None:
    """The report through rich: ASCII boxes (rich's own) and stand-ins for the text."""
    record = tmp_path / "s.jsonl"
    assert main(["sim", "-n", "20", "--headless", "--record", str(record)]) == 0
    from tracer.digest import digest_file
    from tracer.report import print_report

    recording, digest = digest_file(str(record))
    stream = _stream("ascii")
    fit_stream(stream)
    console = Console(file=stream, width=100, color_system=None)
    print_report(recording, digest.summary(), console=console, details=digest.details())
    text = _written(stream).decode("ascii")
    assert text.splitlines()[0].startswith("sim:") and " . " in text.splitlines()[0]
    assert "|" in text and "+--" in text
    assert "20 (20 completed)" in text


def test_ui_needs_an_encoding_that_takes_its_glyphs() -> None:
    assert ui_cannot_show(_stream("utf-8")) is None
    assert ui_cannot_show(_stream("ascii")) == "ascii"
    assert ui_cannot_show(_stream("latin-1")) == "latin-1"


def test_no_ui_line_says_how_to_fix_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTHONIOENCODING", raising=False)
    monkeypatch.setattr(sys, "__stderr__", _stream("ascii"))
    assert no_ui_line("running headless") == (
        "trace: the terminal's encoding (ascii) cannot show the UI, running headless; "
        "for the UI, use a UTF-8 locale (e.g. LC_ALL=C.UTF-8) or set PYTHONUTF8=1"
    )
    monkeypatch.setenv("PYTHONIOENCODING", "ascii")
    line = no_ui_line("running headless")
    assert line is not None and line.endswith("unset PYTHONIOENCODING or set it to utf-8")
    monkeypatch.setattr(sys, "__stderr__", _stream("utf-8"))
    assert no_ui_line("running headless") is None

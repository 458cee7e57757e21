"""``trace: error:`` lines show an escape sequence from a file name or the app, never obey it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tracer.cli import main


def test_an_error_naming_a_file_shows_its_escape_sequence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "a\x1b]0;owned\x07\x1b[2J.jsonl"
    assert main(["summary", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trace: error: ") and err.count("\n") == 1
    assert "\x1b" not in err and "\x07" not in err
    assert "\\x1b]0;owned\\x07\\x1b[2J" in err


def test_an_app_whose_import_fails_with_an_escape_in_its_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The app's own traceback is printed as Python would; the one ``trace: error:`` line after
    it is escaped."""
    (tmp_path / "escaping_app.py").write_text("application = None\n")
    try:
        code = main(["run", "escaping_app:missing\x1b[31m", "--app-dir", str(tmp_path), "-n", "1"])
    finally:
        sys.modules.pop("escaping_app", None)  # a later test's own module of that name
    assert code == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("trace: error: ") and "\x1b" not in last and "\\x1b[31m" in last

"""``trace export --to console``: the SDK's console format on stdout, or in the file ``-o``
names, and the closing line says which (it said "printed" for a file it wrote)."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_recordings import two_requests

from tracer.cli import main


def test_console_prints_to_stdout_without_o(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No ``-o``: the spans on stdout, no file next to the recording."""
    run = two_requests(tmp_path / "run.jsonl")
    assert main(["export", run, "--to", "console"]) == 0
    captured = capsys.readouterr()
    assert captured.out.count('"url.path": "/items"') == 1
    assert captured.err == "trace: printed 2 spans\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.jsonl"]


def test_console_with_o_writes_that_file_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``-o x.txt``: the spans in that file (folders made), nothing on stdout, and the line
    names the file."""
    run = two_requests(tmp_path / "run.jsonl")
    out = tmp_path / "spans" / "x.txt"
    assert main(["export", run, "--to", "console", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"trace: wrote 2 spans to {out}\n"
    assert out.read_text(encoding="utf-8").count('"url.path": "/items"') == 1

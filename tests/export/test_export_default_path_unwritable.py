"""``trace export FILE`` writes beside the recording by default: when that path cannot be
written (a read-only folder, a folder of that name), the one line says how to choose another,
as ``--record``'s does; a path given with ``-o`` is the user's already, and is named alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_recordings import two_requests

from tracer.cli import main


@pytest.mark.parametrize(("target", "suffix"), [("html", ".html"), ("svg", ".svg")])
def test_a_default_path_that_cannot_be_written_names_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str, suffix: str
) -> None:
    run = two_requests(tmp_path / "run.jsonl")
    blocked = tmp_path / f"run{suffix}"
    blocked.mkdir()  # a folder where the export's file would go
    assert main(["export", run, "--to", target]) == 2
    assert capsys.readouterr().err == (
        f'trace: error: Cannot write "{blocked}": Is a directory. Pass -o OUT to write it '
        "elsewhere.\n"
    )


def test_a_path_given_is_named_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = two_requests(tmp_path / "run.jsonl")
    assert main(["export", run, "--to", "html", "-o", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f'trace: error: Cannot write "{tmp_path}": Is a directory.\n'

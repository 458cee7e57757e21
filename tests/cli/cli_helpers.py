"""What the CLI tests share: one ``trace`` command run in process, with its output."""

from __future__ import annotations

import pytest

from tracer.cli import main


def trace_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``trace ARGV``: its exit code (argparse's own errors included), stdout and stderr."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err

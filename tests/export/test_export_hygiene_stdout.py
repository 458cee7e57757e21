"""``trace export ... -o /dev/stdout | head``: a closed pipe ends the export as it does for
``-o -``, whichever name stdout is given: exit 1, nothing on stderr (no error line, no claim
that the file was written, no traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracer.cli import main

pytestmark = pytest.mark.timeout(120)

STDOUT_NAMES = ["-", "/dev/stdout", "/proc/self/fd/1"]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A recording whose Perfetto trace is far larger than a pipe's buffer (64 KiB)."""
    path = tmp_path_factory.mktemp("stdout-names") / "run.jsonl"
    assert main(["sim", "-n", "300", "--headless", "--record", str(path)]) == 0
    return path


def _command(recording: Path, target: str, output: str) -> list[str]:
    return [sys.executable, "-m", "tracer", "export", str(recording), "--to", target, "-o", output]


@pytest.mark.parametrize("output", STDOUT_NAMES)
def test_head_closing_the_pipe_ends_the_export_quietly(recording: Path, output: str) -> None:
    """``trace export F --to perfetto -o OUTPUT | head -c 10``: exit 1, stderr empty."""
    export = subprocess.Popen(
        _command(recording, "perfetto", output), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert export.stdout is not None
    head = subprocess.run(["head", "-c", "10"], stdin=export.stdout, capture_output=True)
    export.stdout.close()  # head's alone now: its exit closes the pipe
    _, err = export.communicate(timeout=60)
    assert head.stdout == b'{"traceEve'
    assert (export.returncode, err.decode()) == (1, "")


@pytest.mark.parametrize("output", STDOUT_NAMES)
def test_a_pipe_closed_before_the_export_is_said_the_same(recording: Path, output: str) -> None:
    """A pipe whose reader is gone before a small export (an SVG figure) is written: the
    same quiet exit, not ``Cannot write "/dev/stdout": Broken pipe.``"""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            _command(recording, "svg", output), stdout=write, stderr=subprocess.PIPE, timeout=60
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr.decode()) == (1, "")


def test_stdout_named_by_its_path_still_gets_the_note(recording: Path) -> None:
    """Read to the end, ``-o /dev/stdout`` is an export like another: exit 0 and its note."""
    done = subprocess.run(
        _command(recording, "svg", "/dev/stdout"), capture_output=True, timeout=60
    )
    assert done.returncode == 0
    assert done.stdout.startswith(b"<svg")
    assert done.stderr.decode() == "trace: SVG figure written to /dev/stdout\n"

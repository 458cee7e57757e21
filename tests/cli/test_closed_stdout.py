"""``trace ... | head``: a reader that goes away ends the command quietly (exit 1, no
traceback, no claim that the output was written), with and without ``python -u``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tracer.cli import main
from tracer.tui.examples import threads_example

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def big_recording(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A recording whose exports are far larger than a pipe's buffer (64 KiB on Linux)."""
    recording = threads_example(300, 4)
    path = tmp_path_factory.mktemp("closed-stdout") / "run.jsonl"
    lines = [json.dumps(recording.header)] + [json.dumps(e.to_dict()) for e in recording.events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _env(unbuffered: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    return env


def _export(path: str, target: list[str], unbuffered: bool) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tracer", "export", path, "--to", *target],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(unbuffered),
    )


TARGETS = [["console"], ["otlp-json", "-o", "-"], ["perfetto", "-o", "-"]]


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t[0])
def test_a_closed_pipe_ends_the_export_quietly(
    big_recording: str, target: list[str], unbuffered: bool
) -> None:
    """``trace export F --to T | head -c 100``: read a little, close, exit 1, nothing on stderr."""
    proc = _export(big_recording, target, unbuffered)
    assert proc.stdout is not None and proc.stderr is not None
    assert len(proc.stdout.read(100)) == 100
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1, err
    assert "Traceback" not in err and "Exception ignored" not in err
    assert "wrote" not in err and "printed" not in err
    assert err == ""


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
def test_a_reader_that_reads_everything_gets_the_note(big_recording: str, unbuffered: bool) -> None:
    """The same export read to the end: exit 0 and the usual note on stderr."""
    proc = _export(big_recording, ["perfetto", "-o", "-"], unbuffered)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert json.loads(out)["traceEvents"]
    assert err.decode().startswith("trace: wrote ") and " to stdout" in err.decode()


def test_a_closed_pipe_through_the_console_script(big_recording: str) -> None:
    """The installed ``trace`` script behaves the same as ``python -m tracer``."""
    script = Path(sys.executable).with_name("trace")
    if not script.exists():
        pytest.skip("the trace console script is not installed next to this Python")
    proc = subprocess.Popen(
        [str(script), "export", big_recording, "--to", "console"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1 and err == ""


def test_a_broken_pipe_that_is_not_stdout_still_shows(monkeypatch: Any) -> None:
    """A BrokenPipeError from elsewhere (a socket) while stdout is fine is a bug: re-raised."""

    def command(args: Any) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("tracer.cli.summary.main", command)
    with pytest.raises(BrokenPipeError):
        main(["summary", "x.jsonl"])

"""What the CLI tests share: one ``trace`` command run in process, or in a process of its own
(bounded), with its output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

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


BOUND = 30.0
"""Seconds a command of ``trace_process`` may take before it is taken for hung."""


def trace_process(cwd: Path, *argv: str) -> tuple[int, str, str]:
    """``python -m tracer ARGV`` in a process (and group) of its own, run from ``cwd``: exit
    code, stdout, stderr (for apps that change what the whole process shares). A command still
    running after ``BOUND`` seconds is killed, its whole group by its id, and fails the test."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracer", *argv],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a group of its own: what it started goes with it
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        out, err = proc.communicate(timeout=BOUND)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"trace {' '.join(argv)} did not end within {BOUND:g} s:\n{out}\n{err}")
    return proc.returncode, out, err


def trace_script(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """``trace ARGV`` run from ``cwd`` as the console script runs it: ``-P`` keeps ``cwd`` off
    the import path (``python -m`` puts it first, where a project's ``json.py`` would hide the
    standard library's before the command starts)."""
    return subprocess.run(
        [sys.executable, "-P", "-m", "tracer", *argv],
        cwd=cwd, capture_output=True, text=True, timeout=90,
    )  # fmt: skip


def app_file(folder: Path, name: str, source: str) -> str:
    """Write ``source`` as ``folder/name.py``; its app's spec, ``name:app``."""
    (folder / f"{name}.py").write_text(source, encoding="utf-8")
    return f"{name}:app"


DESCRIPTORS_CLOSED = """
import os

def app(environ, start_response):
    for fd in (1, 2):
        try:
            os.close(fd)
        except OSError:
            pass
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""
"""A WSGI app that closes descriptors 1 and 2 in a request (what ``trace`` writes must not
go with them)."""

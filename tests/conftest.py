"""Test-suite set-up shared by every folder.

Tests run in pytest's importlib mode (so files in different folders may share a name); the
folders' own helper modules (``real_helpers``, ``conformance_cases``, ...) are made importable
by putting each test folder on ``sys.path``.

A suite started in the background of a non-interactive shell (``… &``) inherits SIGINT
ignored, and Python then installs no handler for it: the tests of Ctrl-C would see nothing.
Ctrl-C is given its usual meaning here, and the ``trace`` processes the tests start inherit it.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

_TESTS = Path(__file__).resolve().parent
for _folder in sorted({p.parent for p in _TESTS.rglob("*.py")} - {_TESTS}):
    if "__snapshots__" not in _folder.parts and str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))


ROOT = _TESTS.parent
MYPY = (sys.executable, "-m", "mypy")
"""mypy over tracer, sim and sample_apps, as ``pyproject.toml`` configures it."""


class Background:
    """A command started now that runs on its own, its output kept in files, until its result
    is asked for."""

    def __init__(self, argv: tuple[str, ...], cwd: Path, *, low_priority: bool = False) -> None:
        nice = shutil.which("nice") if low_priority else None
        self.argv = argv
        self._out: IO[bytes] = tempfile.TemporaryFile()
        self._err: IO[bytes] = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            (nice, "-n", "19", *argv) if nice else argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=self._err,
        )

    def result(self, timeout: float) -> subprocess.CompletedProcess[str]:
        """Wait for the command (killing it past ``timeout`` seconds, which then raises
        ``subprocess.TimeoutExpired`` as ``subprocess.run`` does) and return what it did."""
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise
        return subprocess.CompletedProcess(self.argv, code, _read(self._out), _read(self._err))

    def stop(self) -> None:
        """Kill the command if it still runs (by its own pid), and forget its output."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._out.close()
        self._err.close()


def _read(file: IO[bytes]) -> str:
    file.seek(0)
    return file.read().decode("utf-8", "replace")


_MYPY_RUN = pytest.StashKey[Background]()


def _runs_mypy(item: pytest.Item) -> bool:
    return item.path.name == "test_lint.py" and item.name == "test_mypy_clean"


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start mypy as soon as the tests are collected, when its test is among those that will
    run: on a fresh clone (no mypy cache) it takes the better part of half a minute, which,
    at the lowest CPU priority, it spends on a core the serial suite leaves idle rather than
    adding it to the suite's time. Its test waits for the result."""
    if session.config.option.collectonly or not any(map(_runs_mypy, session.items)):
        return
    session.config.stash[_MYPY_RUN] = Background(MYPY, ROOT, low_priority=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    """A session that ended before the mypy test ran (``-x``, Ctrl-C) leaves no mypy behind."""
    started = config.stash.get(_MYPY_RUN, None)
    if started is not None:
        started.stop()


@pytest.fixture
def mypy_result(request: pytest.FixtureRequest) -> Iterator[subprocess.CompletedProcess[str]]:
    """What mypy over the project printed and returned: the run started in the background at
    the session's start, else one started now."""
    started = request.config.stash.get(_MYPY_RUN, None)
    if started is None:
        started = Background(MYPY, ROOT)
    try:
        yield started.result(timeout=600)
    finally:
        started.stop()

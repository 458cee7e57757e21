"""ruff and mypy are part of the test suite, so the one test command checks them too."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


# Whether this interpreter can run ``python -m ruff`` (what _run does), not whether a ``ruff``
# is on PATH: an interpreter of a venv that was not activated has it without the PATH entry.
@pytest.mark.skipif(
    importlib.util.find_spec("ruff") is None, reason="ruff is installed by the test extra"
)
def test_ruff_clean() -> None:
    """ruff check reports nothing."""
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_clean(mypy_result: subprocess.CompletedProcess[str]) -> None:
    """mypy over tracer, sim and sample_apps reports nothing (``mypy_result``: the run
    started in the background once the tests were collected, see ``tests/conftest.py``)."""
    assert mypy_result.returncode == 0, mypy_result.stdout + mypy_result.stderr


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff is not installed")
def test_the_ruff_test_runs_without_ruff_on_path() -> None:
    """With ruff importable but no ``ruff`` command on PATH (a venv's python run without
    activating the venv), the ruff test is set up to run, not skipped (``--setup-only``
    evaluates the skip without running ruff)."""
    env = {**os.environ, "PATH": os.pathsep.join(("/usr/bin", "/bin"))}
    env.pop("VIRTUAL_ENV", None)
    # The skip is pytest's own: the installed plugins (seconds of imports) play no part in it.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    pytest_args = "-p pytest_timeout -p xdist.plugin -p no:cacheprovider --setup-only -rs -q"
    pytest_args += " test_lint.py::test_ruff_clean"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args.split()],
        cwd=Path(__file__).parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "skipped" not in done.stdout, done.stdout

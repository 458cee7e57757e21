"""``trace run --server uvicorn`` on a machine allowing few open files (``ulimit -n 64``, soft
and hard): a run that fits goes ahead, and one that does not is told the ``-c`` that fits."""

from __future__ import annotations

import importlib.util
import json
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(importlib.util.find_spec("uvicorn") is None, reason="needs uvicorn"),
]


def _trace_with_open_files(limit: int, *argv: str) -> subprocess.CompletedProcess[str]:
    """``python -m tracer ARGV`` under ``ulimit -n LIMIT`` (soft and hard)."""

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "tracer", *argv],
        capture_output=True,
        text=True,
        timeout=45,
        cwd=Path.cwd(),
        preexec_fn=limited,
    )


def test_a_few_clients_run_under_64_open_files(tmp_path: Path) -> None:
    """Ten clients need some twenty sockets: they ran, where ``-c 1`` was refused as needing
    more than 64 open files (and its advice, a smaller ``-c``, could not help)."""
    done = _trace_with_open_files(
        64, "run", "sample_apps.hello:asgi_app", "--server", "uvicorn", "-c", "10", "-n", "20",
        "--json", "--record", str(tmp_path / "run.jsonl"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["errors"] == 0 and summary["status"] == {"200": 20}, summary


def test_too_many_clients_are_told_the_most_that_fit(tmp_path: Path) -> None:
    """``-c 50`` under 64 open files: one line, exit 2, naming the ``-c`` that would run."""
    record = tmp_path / "run.jsonl"
    done = _trace_with_open_files(
        64, "run", "sample_apps.hello:asgi_app", "--server", "uvicorn", "-c", "50", "-n", "100",
        "--headless", "--record", str(record),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("trace: error: -c 50 needs") and "64 allowed" in line, line
    most = re.search(r"give -c (\d+) or fewer", line)
    assert most is not None, line
    assert 10 <= int(most.group(1)) < 50
    assert not record.exists()

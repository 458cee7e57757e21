"""The server's log (a temporary file read after the stop) is closed by the time the process
ends: ``python -X dev`` warned ``ResourceWarning: unclosed file`` after every real-server run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)


def test_a_real_server_run_leaves_no_file_unclosed(tmp_path: Path) -> None:
    argv = ["run", "sample_apps.hello:asgi_app", "--server", "uvicorn", "-n", "3", "--headless"]
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-m", "tracer", *argv, "--record", str(tmp_path / "r.jsonl")],
        capture_output=True,
        text=True,
        timeout=50,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert done.returncode == 0, done.stderr
    assert "ResourceWarning" not in done.stderr, done.stderr

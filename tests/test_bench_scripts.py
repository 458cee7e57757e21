"""The bench scripts still run: each, with the smallest load, exits 0, prints its table, and
warns of nothing (a coroutine never awaited meant one of them measured nothing). Speed itself is
measured by running them, never asserted here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize(
    ("script", "args", "prints"),
    [
        ("overhead.py", ["--chunk", "5", "--rounds", "1"], "OpenTelemetry middleware"),
        ("conformance_checks.py", ["--requests", "50", "--repeats", "1"], "checking adds"),
        ("export_cost.py", ["--requests", "50", "--repeats", "1"], "export --to otlp-json"),
        ("tui_frames.py", ["--requests", "50", "--repeats", "1", "--frames", "1"], "peak RSS"),
        (
            "server_overhead.py",
            ["--requests", "100", "--repeats", "1", "--skip-clients"],
            "uvicorn",
        ),
    ],
)
def test_a_bench_script_runs_on_a_tiny_load(script: str, args: list[str], prints: str) -> None:
    """RuntimeWarnings are errors here: an un-awaited scenario fails instead of timing nothing."""
    done = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=110,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert prints in done.stdout
    assert "Traceback" not in done.stderr and "never awaited" not in done.stderr

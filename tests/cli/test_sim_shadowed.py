"""A user's own ``sim`` package first on sys.path (the working folder under ``python -m``)
shadows the simulator: ``trace sim`` says so in one line, exit 2, not an import traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_a_shadowing_sim_package_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "sim").mkdir()
    (tmp_path / "sim" / "__init__.py").write_text('"""a user\'s own package"""\n')
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "sim", "-n", "10", "--no-record", "--headless"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert '"sim" package' in lines[0] and str(tmp_path / "sim") in lines[0]

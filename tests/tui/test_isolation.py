"""The UI reads recordings only: loading it pulls in no shim, server model or load generator."""

from __future__ import annotations

import subprocess
import sys


def test_ui_modules_import_no_shim_or_server() -> None:
    """Importing the replay, the live dashboard and `trace replay` loads none of those packages
    (checked in a fresh interpreter, so other tests' imports cannot hide one)."""
    code = (
        "import sys, tracer.tui.app, tracer.tui.live, tracer.cli.replay; "
        "print(sorted(m for m in sys.modules "
        "if m.startswith(('tracer.shim', 'tracer.servers', 'tracer.loadgen'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

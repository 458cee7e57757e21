"""``trace run`` and ``trace replay`` on a terminal whose encoding cannot show the UI's
characters (``LC_ALL=C``), as on ``TERM=dumb``: the run goes headless, one line saying why
and how to fix it; the replay says what it needs, exit 2. Run in a real pseudo-terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_encoding_ui import FIX, ROOT, on_an_ascii_pty

pytestmark = pytest.mark.timeout(60)


def test_run_goes_headless_and_prints_its_report(tmp_path: Path) -> None:
    code, out = on_an_ascii_pty(
        ["run", "sample_apps.hello:asgi_app", "-n", "20", "-c", "2",
         "--record", str(tmp_path / "r.jsonl")]
    )  # fmt: skip
    assert "\x1b[?1049h" not in out
    assert (
        f"trace: the terminal's encoding (ascii) cannot show the UI, running headless; {FIX}\n"
    ) in out
    assert "20 (20 completed)" in out and "Traceback" not in out
    assert code == 0


def test_replay_says_what_it_needs(tmp_path: Path) -> None:
    record = tmp_path / "r.jsonl"
    subprocess.run(
        [sys.executable, "-m", "tracer", "sim", "-n", "5", "--headless", "--record", str(record)],
        cwd=ROOT, check=True, capture_output=True, timeout=50,
    )  # fmt: skip
    code, out = on_an_ascii_pty(["replay", str(record)])
    assert "\x1b[?1049h" not in out
    assert out.strip().splitlines()[-1] == (
        "trace: error: trace replay needs a terminal that can show its characters; this "
        "one's encoding is ascii: use a UTF-8 locale (e.g. LC_ALL=C.UTF-8) or set "
        "PYTHONUTF8=1. To render without one, add --screenshot OUT.svg."
    )
    assert code == 2

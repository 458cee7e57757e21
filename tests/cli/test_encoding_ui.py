"""A terminal whose encoding cannot show the UI's characters (``LC_ALL=C``) gets no
full-screen UI, as ``TERM=dumb`` gets none: ``trace sim`` prints its report and ``trace demo``
its figures instead, after one line on stderr that says how to fix it. Run in a real
pseudo-terminal."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]

FIX = "for the UI, use a UTF-8 locale (e.g. LC_ALL=C.UTF-8) or set PYTHONUTF8=1"


def on_an_ascii_pty(args: list[str]) -> tuple[int, str]:
    """Run ``trace ARGS`` under ``LC_ALL=C`` with stdin, stdout and stderr on one pty; its exit
    code and output. A UI that opens anyway is closed with ``q`` (its alternate screen shows)."""
    leader, follower = os.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "PYTHONIO"))}
    env.update(LC_ALL="C", PYTHONUTF8="0", TERM="xterm-256color")
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracer", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=ROOT,
        env=env,
    )
    os.close(follower)
    out = b""
    quit_sent = False
    deadline = time.monotonic() + 50
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the child closed the pty
                    break
                if not chunk:
                    break
                out += chunk
                if b"\x1b[?1049h" in out and not quit_sent:
                    os.write(leader, b"q")
                    quit_sent = True
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
    return code, out.decode("latin-1").replace("\r\n", "\n")


def test_sim_prints_its_report_instead_of_the_replay(tmp_path: Path) -> None:
    code, out = on_an_ascii_pty(["sim", "-n", "20", "--record", str(tmp_path / "s.jsonl")])
    assert "\x1b[?1049h" not in out  # never switched to the alternate screen
    assert (
        "trace: the terminal's encoding (ascii) cannot show the UI, printing the report "
        f"instead; {FIX}\n"
    ) in out
    assert "20 (20 completed)" in out and "Traceback" not in out
    assert code == 0


def test_demo_prints_its_figures_instead_of_the_ui() -> None:
    code, out = on_an_ascii_pty(["demo", "sync-vs-async", "--sim"])
    assert "\x1b[?1049h" not in out
    assert (
        "trace: the terminal's encoding (ascii) cannot show the UI, printing the figures "
        f"instead; {FIX}\n"
    ) in out
    assert "sync-vs-async: Sync vs async" in out and "Traceback" not in out
    assert code == 0

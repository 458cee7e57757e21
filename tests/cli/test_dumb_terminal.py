"""``TERM=dumb``: a terminal that cannot move its cursor gets no full-screen UI. ``trace run``
runs headless there, printing its report; ``trace replay`` says it needs a terminal that can
draw, exit 2. Run as a new user would, in a real pseudo-terminal."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)


def _on_a_pty(args: list[str], cwd: Path, term: str) -> tuple[int, str]:
    """Run ``trace ARGS`` with stdin, stdout and stderr on one pty; its exit code and output."""
    leader, follower = os.openpty()
    env = {**os.environ, "TERM": term}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracer", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=cwd,
        env=env,
        start_new_session=False,
    )
    os.close(follower)
    out = b""
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
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
    return code, out.decode("utf-8", "replace").replace("\r\n", "\n")


def test_run_on_a_dumb_terminal_prints_the_report_without_the_dashboard(tmp_path: Path) -> None:
    code, out = _on_a_pty(
        [
            "run",
            "sample_apps.hello:asgi_app",
            "-n",
            "20",
            "-c",
            "2",
            "--record",
            str(tmp_path / "r.jsonl"),
        ],  # fmt: skip
        Path(__file__).resolve().parents[2],
        "dumb",
    )
    assert code == 0, out
    assert "requests" in out and "20 (20 completed)" in out
    assert "\x1b[?1049h" not in out  # never switched to the alternate screen
    assert "running headless" in out


def test_replay_on_a_dumb_terminal_asks_for_one_that_can_draw(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    record = tmp_path / "r.jsonl"
    subprocess.run(
        [sys.executable, "-m", "tracer", "run", "sample_apps.hello:asgi_app", "-n", "5",
         "--headless", "--record", str(record)],
        cwd=root, check=True, capture_output=True, timeout=50,
    )  # fmt: skip
    code, out = _on_a_pty(["replay", str(record)], root, "dumb")
    assert code == 2
    assert out.strip().splitlines()[-1] == (
        "trace: error: trace replay needs a terminal that can draw (TERM=dumb cannot). "
        "To render without one, add --screenshot OUT.svg."
    )

"""What the tests that drive a real terminal share: tmux, and waiting for its screen."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable

TMUX = shutil.which("tmux")
"""The tmux executable, or None (those tests are then skipped)."""


def tmux(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``tmux ARGS`` (bounded: 10 s)."""
    assert TMUX is not None
    return subprocess.run([TMUX, *args], capture_output=True, text=True, timeout=10)


def new_session(name: str, command: str, *, width: int = 120, height: int = 40) -> None:
    """Start the detached tmux session ``name`` running ``command`` on a terminal of
    ``width`` x ``height`` cells (TERM xterm-256color); fail the test unless it started."""
    assert TMUX is not None
    started = subprocess.run(
        [TMUX, "new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), command],
        capture_output=True,
        text=True,
        timeout=10,
        env={**os.environ, "TERM": "xterm-256color"},
    )
    assert started.returncode == 0, started.stderr


def wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> bool:
    """Poll ``condition`` every 0.1 s until it holds (True) or ``seconds`` pass (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False

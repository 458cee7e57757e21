"""An app that freezes ``time.monotonic`` in ``trace``'s own process (a test suite's fake clock
left running, freezegun's ``freeze_time().start()``) does not stop the load: its pacing and the
run's wall time are on the real clock, bound before the app was imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(90)

FROZEN_AT_IMPORT = """
import time

time.monotonic = lambda: 1000.0  # frozen for everyone in this process from now on


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


@pytest.mark.parametrize("server", ["threads", "loop"])
def test_a_frozen_clock_does_not_stop_an_open_loop(tmp_path: Path, server: str) -> None:
    (tmp_path / "frozen.py").write_text(FROZEN_AT_IMPORT)
    app = "frozen:app"
    if server == "loop":
        (tmp_path / "frozen_asgi.py").write_text(
            "import frozen\nfrom asgiref.wsgi import WsgiToAsgi\napp = WsgiToAsgi(frozen.app)\n"
        )
        app = "frozen_asgi:app"
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "run", app, "--server", server, "--rate", "40",
         "-z", "1s", "--json", "--app-dir", str(tmp_path), "--record", str(tmp_path / "r.jsonl")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert 20 <= summary["completed"] <= 60
    assert 0.5 < summary["wall_s"] < 5

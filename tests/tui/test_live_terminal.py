"""Under the live dashboard, what the app writes to descriptors 1 and 2 goes to its log, and
the terminal is given back as it was however the dashboard closes.

A ``logging`` handler made at import holds the original ``sys.stderr``; ``os.write(1, ...)``
and a subprocess write to the descriptors themselves: none of it goes through ``sys.stdout``.
Driven in a real terminal (tmux).
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest
from tmux_helpers import TMUX, new_session
from tmux_helpers import tmux as _tmux
from tmux_helpers import wait_for as _wait_for

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.skipif(TMUX is None, reason="tmux is not installed"),
]

LOGGING_APP = """
import logging, os, subprocess, time

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
log = logging.getLogger("myapp")


def app(environ, start_response):
    log.warning("LOGGED %s", environ.get("PATH_INFO"))
    os.write(1, b"FD1-WRITTEN\\n")
    subprocess.run(["echo", "CHILD-ECHOED"], check=True)
    time.sleep(0.05)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


@pytest.mark.parametrize("leave", ["q", "ctrl+c", "sigterm"])
def test_what_the_app_writes_goes_to_its_log_and_the_terminal_comes_back(
    tmp_path: Path, leave: str
) -> None:
    """No line of the app is ever on the dashboard's screen; ``<name>.app.log`` holds every
    one (logging's, ``os.write``'s, a subprocess's), named on stderr once the dashboard closed;
    the report is printed on the terminal (descriptors 1 and 2 are the terminal's again) and
    the terminal's modes are those it had before (``stty -g``), whether the dashboard closed
    with ``q`` in the replay, Ctrl-C during the run, or SIGTERM during the run."""
    (tmp_path / "logging_app.py").write_text(LOGGING_APP, encoding="utf-8")
    name = f"gt-terminal-{uuid.uuid4().hex[:8]}"
    load = "-n 20" if leave == "q" else "-z 60s"
    command = (
        f"cd {tmp_path} && stty -g > before.txt; "
        f"sh -c 'echo $$ > pid.txt; exec {sys.executable} -m tracer run logging_app:app "
        f"--server threads {load} -c 2 --record run.jsonl'; "
        "echo $? > rc.txt; stty -g > after.txt; sleep 60"
    )
    screens: list[str] = []

    def screen_has(text: str) -> bool:
        screens.append(_tmux("capture-pane", "-p", "-t", name).stdout)
        return text in screens[-1]

    log = tmp_path / "run.app.log"
    rc = tmp_path / "rc.txt"
    try:
        new_session(name, command, width=120, height=40)
        if leave == "q":
            assert _wait_for(lambda: screen_has("replay of the whole run"), 60.0), screens[-1:]
            _tmux("send-keys", "-t", name, "q")
        else:
            # The run is going on and the app has written (to its log, not the screen).
            assert _wait_for(
                lambda: screen_has("● live") and log.exists() and log.stat().st_size > 200, 60.0
            ), screens[-1:]
            if leave == "ctrl+c":
                _tmux("send-keys", "-t", name, "C-c")
            else:
                os.kill(int((tmp_path / "pid.txt").read_text()), 15)
        assert _wait_for(lambda: rc.exists() and rc.stat().st_size > 0, 60.0)
        after = _tmux("capture-pane", "-p", "-S", "-", "-t", name).stdout
    finally:
        _tmux("kill-session", "-t", name)
    assert rc.read_text().strip() == "0", after
    shown = [screen for screen in screens if "LOGGED" in screen or "WRITTEN" in screen]
    assert not shown, shown[0]
    lines = log.read_text(encoding="utf-8").splitlines()
    logged = lines.count("WARNING LOGGED /")
    assert logged >= (20 if leave == "q" else 1), lines
    assert lines.count("FD1-WRITTEN") in (logged, logged - 1), lines  # one may be cut short
    assert lines.count("CHILD-ECHOED") in (logged, logged - 1), lines
    assert f"the app printed {len(lines)} lines: run.app.log" in after, after
    assert "recording: run.jsonl" in after and "LOGGED" not in after, after
    assert (tmp_path / "after.txt").read_text() == (tmp_path / "before.txt").read_text()

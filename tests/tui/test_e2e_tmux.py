"""End to end: ``trace replay`` in a real terminal (tmux), read the screen, quit with q."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from tmux_helpers import TMUX, new_session
from tmux_helpers import tmux as _tmux
from tmux_helpers import wait_for as _wait_for

from tracer.tui.examples import loop_example

pytestmark = [
    pytest.mark.skipif(TMUX is None, reason="tmux is not installed"),
    pytest.mark.timeout(90),
]


def _screen_when(name: str, shown: Callable[[str], bool]) -> str:
    """The pane's text once ``shown(text)`` holds (asserted within the wait)."""
    screen = ""

    def ready() -> bool:
        nonlocal screen
        screen = _tmux("capture-pane", "-p", "-t", name).stdout
        return shown(screen)

    assert _wait_for(ready), screen
    return screen


def test_replay_in_a_real_terminal(tmp_path: Path) -> None:
    """The UI draws its legend and lanes in a 120x40 tmux pane and q ends the process."""
    recording = loop_example()
    path = tmp_path / "run.jsonl"
    lines = [json.dumps(recording.header)] + [json.dumps(e.to_dict()) for e in recording.events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    name = f"gt-e2e-{uuid.uuid4().hex[:8]}"
    command = f"{sys.executable} -m tracer replay {path}"
    try:
        new_session(name, command, width=120, height=40)
        screen = _screen_when(name, lambda text: "queued" in text and "sending" in text)
        assert "#3 /block" in screen and "ASGI loop" in screen
        _tmux("send-keys", "-t", name, "q")
        assert _wait_for(lambda: _tmux("has-session", "-t", name).returncode != 0)
    finally:
        _tmux("kill-session", "-t", name)


LIVE_SCRIPT = """
import sys, threading
from tracer.recorder import Recorder
from tracer.tui.examples import loop_example
from tracer.tui.live import run_live

source = loop_example(40)
recorder = Recorder(sys.argv[1], flush_interval=0.02)
recorder.header.update(source.header)

def work(stop):
    recorder.extend(source.events[:100])
    stop.wait(60)  # runs until q
    recorder.extend(source.events[100:])
    recorder.drain()

run_live(recorder, work, title="e2e live", total_requests=40)
recorder.close()
open(sys.argv[2], "w").write("returned")
"""


def test_live_dashboard_quits_with_q_and_keeps_the_recording(tmp_path: Path) -> None:
    """run_live in a real terminal: the dashboard shows, q stops the run, run_live returns and
    the recording holds every event the run made."""
    script = tmp_path / "live.py"
    script.write_text(LIVE_SCRIPT, encoding="utf-8")
    path, done = tmp_path / "run.jsonl", tmp_path / "done"
    name = f"gt-live-{uuid.uuid4().hex[:8]}"
    command = f"cd {Path.cwd()} && {sys.executable} {script} {path} {done}"
    try:
        started = _tmux("new-session", "-d", "-s", name, "-x", "100", "-y", "30", command)
        assert started.returncode == 0, started.stderr
        screen = ""

        def dashboard_shown() -> bool:
            nonlocal screen
            screen = _tmux("capture-pane", "-p", "-t", name).stdout
            return "e2e live" in screen and "progress" in screen

        assert _wait_for(dashboard_shown), screen
        _tmux("send-keys", "-t", name, "q")
        assert _wait_for(done.exists), _tmux("capture-pane", "-p", "-t", name).stdout
    finally:
        _tmux("kill-session", "-t", name)
    from tracer.recording import load

    assert len(load(path).events) == len(loop_example(40).events)


EXITING_APP = """
import os, threading, time

lock = threading.Lock()
seen = [0]


def app(environ, start_response):
    with lock:
        seen[0] += 1
        n = seen[0]
    time.sleep(0.02)
    if n == 30:
        os._exit(3)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


def test_an_app_calling_os_exit_under_the_dashboard_leaves_a_working_terminal(
    tmp_path: Path,
) -> None:
    """The process ends at once, under the live dashboard: the shell gets its screen and its
    line editing back (not raw mode on the alternate screen), and the line saying what
    happened is on that screen."""
    (tmp_path / "exiting.py").write_text(EXITING_APP, encoding="utf-8")
    name = f"gt-exit-{uuid.uuid4().hex[:8]}"
    command = (
        f"cd {tmp_path} && {sys.executable} -m tracer run exiting.py:app --server threads "
        f"-n 200 -c 4 --record run.jsonl; echo $? > rc.txt; stty -a > stty.txt; sleep 60"
    )
    try:
        new_session(name, command, width=120, height=30)
        stty = tmp_path / "stty.txt"
        assert _wait_for(lambda: stty.exists() and stty.stat().st_size > 0, 60)
        screen = _tmux("capture-pane", "-p", "-t", name).stdout
    finally:
        _tmux("kill-session", "-t", name)
    assert (tmp_path / "rc.txt").read_text().strip() == "3"
    modes = stty.read_text().split()
    assert "icanon" in modes and "echo" in modes, modes
    assert "called os._exit(3)" in screen, screen
    assert "queued" not in screen, screen  # the dashboard's legend: still its screen


def test_the_report_follows_the_dashboard_after_q(tmp_path: Path) -> None:
    """``trace run`` on a terminal: q stops the load in the dashboard, and once its screen is
    gone the report is in the terminal, then the recording's path (only the path was)."""
    name = f"gt-report-{uuid.uuid4().hex[:8]}"
    record = tmp_path / "run.jsonl"
    command = (
        f"cd {Path.cwd()} && {sys.executable} -m tracer run sample_apps.io_bound:wsgi_app "
        f"--threads 4 -c 20 -n 2000 --record {record}; echo $? > {tmp_path}/rc.txt; "
        "sleep 60"
    )
    try:
        new_session(name, command, width=120, height=50)
        _screen_when(name, lambda text: "progress" in text)
        _tmux("send-keys", "-t", name, "q")
        rc = tmp_path / "rc.txt"
        assert _wait_for(lambda: rc.exists() and rc.stat().st_size > 0, 60)
        screen = _tmux("capture-pane", "-p", "-t", name).stdout
    finally:
        _tmux("kill-session", "-t", name)
    assert rc.read_text().strip() == "0"
    assert "Latency" in screen and "requests" in screen, screen
    assert screen.index("requests") < screen.index(f"recording: {record}"), screen

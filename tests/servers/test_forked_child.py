"""A child the app forks in a request under an in-process model is the app's process: its
``sys.exit()`` ends it, and SIGTERM ends it, as for a process of its own (not the tool's
worker machinery swallowing the exit, nor the tool's handlers ignoring the signal)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)

APP = """import os, sys, time

PIDS = os.environ["FORK_PIDS"]
count = [0]


def app(environ, start_response):
    count[0] += 1
    if count[0] == 2:
        pid = os.fork()
        if pid == 0:
            with open(PIDS, "a") as pids:
                pids.write(f"{os.getpid()}\\n")
            if os.environ["FORK_MODE"] == "exit":
                sys.exit(7)
            time.sleep(600)  # until a signal ends it
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


async def aapp(scope, receive, send):
    if scope["type"] != "http":
        return
    count[0] += 1
    if count[0] == 2:
        pid = os.fork()
        if pid == 0:
            with open(PIDS, "a") as pids:
                pids.write(f"{os.getpid()}\\n")
            if os.environ["FORK_MODE"] == "exit":
                sys.exit(7)
            time.sleep(600)  # until a signal ends it
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""

ASGI = {"loop": "forking_app:aapp"}  # the WSGI models run forking_app:app


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return not _alive(pid)


def _run(tmp_path: Path, model: str, mode: str) -> int:
    """``trace run`` of the forking app; the pid of the child it forked."""
    (tmp_path / "forking_app.py").write_text(APP)
    pids = tmp_path / "pids"
    env = {**os.environ, "FORK_PIDS": str(pids), "FORK_MODE": mode}
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "run", ASGI.get(model, "forking_app:app")]
        + ["--server", model]
        + ["--headless", "-n", "4", "-c", "1", "--record", str(tmp_path / "run.jsonl")],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,  # a child holding the pipes would keep run() waiting
        stderr=subprocess.DEVNULL,
        timeout=45,
    )
    assert done.returncode == 0
    deadline = time.monotonic() + 10
    while not pids.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return int(pids.read_text().split()[0])


@pytest.mark.parametrize("model", ["threads", "wsgi-on-loop", "loop"])
def test_sys_exit_in_a_forked_child_ends_it(tmp_path: Path, model: str) -> None:
    child = _run(tmp_path, model, "exit")
    try:
        assert _gone_within(child, 10.0)
        assert not list(tmp_path.glob("run.*.jsonl"))  # no recording of the child's own
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)


@pytest.mark.parametrize("model", ["threads", "wsgi-on-loop", "loop"])
def test_sigterm_ends_a_forked_child(tmp_path: Path, model: str) -> None:
    child = _run(tmp_path, model, "sleep")
    try:
        assert _alive(child)  # it sleeps on, the app's business
        os.kill(child, signal.SIGTERM)
        assert _gone_within(child, 10.0)
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)

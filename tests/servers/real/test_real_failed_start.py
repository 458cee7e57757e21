"""A server whose start failed is stopped at once, before its error is raised: no stop
signal, no graceful-stop bound (``ServerProcess.stop_path`` is ``STOPPED_AT_ONCE``), and no
process of its group left.

A worker still importing the app takes its stop signal only once the import is over (those of
uvicorn ``--workers`` and gunicorn note it and go on), and a master that died may leave workers
behind: the graceful stop waited its whole bound (5 s) for either before the one error line
came.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from real_helpers import HERE, alive

from tracer.errors import ServerError
from tracer.recorder import Recorder
from tracer.servers import ServerConfig
from tracer.servers.real.harness import STOPPED_AT_ONCE, ServerProcess, free_port, group_members
from tracer.servers.real.uvicorn import UvicornServer
from tracer.servers.waits import monotonic

pytestmark = pytest.mark.timeout(60)

NOTES_SIGTERM = """
import pathlib, signal, sys, time

mark = pathlib.Path(sys.argv[1])
signal.signal(signal.SIGTERM, lambda *_: mark.write_text("SIGTERM"))
mark.with_suffix(".noting").write_text("")
time.sleep(60)
"""
"""A server that never listens and only notes a stop signal, as a uvicorn or gunicorn worker
does while the app imports (the sleep resumes after the handler); it says when it notes them
(``.noting``)."""

DIES_LEAVING_A_WORKER = """
import subprocess, sys

subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
sys.exit(1)
"""
"""A master that exits while starting, its worker left in its process group."""


def test_a_server_never_ready_is_killed_without_its_stop_signal(tmp_path: Path) -> None:
    mark = tmp_path / "signal"
    noting = mark.with_suffix(".noting")

    def clock() -> float:
        """The start's deadline passes once the server notes its signals, not before."""
        return monotonic() + (1000.0 if noting.exists() else 0.0)

    server = ServerProcess(
        "slow", [sys.executable, "-c", NOTES_SIGTERM, str(mark)], port=free_port(), clock=clock
    )
    with pytest.raises(ServerError, match="did not start serving") as caught:
        server.start(timeout=60.0)
    assert "still running" in str(caught.value)
    assert server.stop_path == STOPPED_AT_ONCE
    # Never asked to stop: a graceful stop would have waited its bound on a server noting it.
    assert noting.exists() and not mark.exists()
    assert server.pgid is not None and group_members(server.pgid) == []
    assert not alive(server.pgid)
    server.close()


def test_a_master_that_died_while_starting_leaves_no_worker(tmp_path: Path) -> None:
    server = ServerProcess("dying", [sys.executable, "-c", DIES_LEAVING_A_WORKER], port=free_port())
    with pytest.raises(ServerError, match=r"dying stopped while starting \(exit code 1\)"):
        server.start(timeout=10)
    assert server.stop_path == STOPPED_AT_ONCE  # its worker was not given a bound to end
    assert server.pgid is not None and group_members(server.pgid) == []
    server.close()


def test_uvicorn_still_importing_at_its_start_deadline_is_killed_at_once() -> None:
    """The real server: the app's import inside its workers outlasts the start's bound (a
    graceful stop waited 5 s more for them)."""
    config = ServerConfig(app_spec="real_slow_in_server:app", app_dir=HERE, workers=2)
    server = UvicornServer(config, Recorder())
    with pytest.raises(ServerError, match="uvicorn did not start serving"):
        server.start(timeout=1.5)
    process = server.process
    assert process is not None and process.stop_path == STOPPED_AT_ONCE
    assert process.pgid is not None and group_members(process.pgid) == []
    assert server.notices == []  # no "killed after its stop signal" line: none was sent

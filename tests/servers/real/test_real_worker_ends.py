"""What is said of a real server whose worker's app called ``os._exit``, when its master then
killed its other workers: the app's own ``os._exit`` is the cause, not the signal that ended
the workers it took down with it (they leave no mark of their end)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tracer.cli.run_end import say_how_it_ended
from tracer.client import ClientConfig
from tracer.recorder import Recorder
from tracer.run import RunConfig
from tracer.servers import ServerConfig, server_model
from tracer.servers.real.server import RealServer
from tracer.servers.real.worker_ends import WorkerEnds, exit_verdict, worker_ends

pytestmark = pytest.mark.timeout(90)

_WSGI_EXITS = """
import os


def app(environ, start_response):
    os._exit(1)
"""

_ASGI_EXITS = """
import os


async def app(scope, receive, send):
    if scope["type"] == "http":
        os._exit(1)
"""

# A server process through the bootstrap: it loads the app (its ready mark), then either
# serves one request (the app's os._exit) or is ended by SIGTERM, as hypercorn's master
# ends its other workers once one has died (no handler: no mark of a normal exit).
_WORKER = """
import json, os, signal, sys

from tracer.servers.real.bootstrap import build_app

app = build_app(json.loads(sys.argv[1]))
if sys.argv[2] == "terminated":
    os.kill(os.getpid(), signal.SIGTERM)
environ = {
    "REQUEST_METHOD": "GET", "PATH_INFO": "/", "QUERY_STRING": "",
    "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
    "HTTP_X_GATEWAY_TRACER_REQ": "1",
}
app(environ, lambda status, headers, exc_info=None: None)
"""


def _worker(tmp_path: Path, run_dir: Path, how: str) -> subprocess.CompletedProcess[bytes]:
    settings = {"app": "wsgi_exits:app", "dir": str(run_dir), "start_ns": 0}
    settings["app_dir"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "-c", _WORKER, json.dumps(settings), how],
        capture_output=True,
        timeout=30,
    )


def _marked_pids(run_dir: Path) -> list[int]:
    return sorted(int(ready.stem) for ready in run_dir.glob("*.ready"))


def test_the_app_s_os_exit_wins_over_the_workers_its_master_then_killed(
    tmp_path: Path,
) -> None:
    """Marks left by two real server processes: one whose app called os._exit(1), one ended
    by SIGTERM after loading the app. The server is said to have exited through the app's
    os._exit in the first, and the master's 0 is reported as the app's 1."""
    (tmp_path / "wsgi_exits.py").write_text(_WSGI_EXITS)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    exited = _worker(tmp_path, run_dir, "exits")
    assert exited.returncode == 1, exited.stderr.decode()
    (exiting,) = _marked_pids(run_dir)
    terminated = _worker(tmp_path, run_dir, "terminated")
    assert terminated.returncode == -signal.SIGTERM, terminated.stderr.decode()
    (killed,) = set(_marked_pids(run_dir)) - {exiting}

    ends = worker_ends(run_dir, master=os.getpid())
    assert ends == WorkerEnds(os_exits=((exiting, 1),), killed=(killed,))
    verdict = exit_verdict("hypercorn", 0, ends)
    assert verdict is not None
    assert (verdict.code, verdict.subject, verdict.quote) == (
        1,
        "a worker process of hypercorn",
        False,
    )
    assert verdict.words == (
        f"the app called os._exit(1) in a worker process of hypercorn (pid {exiting}) during "
        "the run, and hypercorn exited (exit code 0)"
    )


def test_workers_killed_with_no_os_exit_are_said_killed_by_a_signal(tmp_path: Path) -> None:
    """Without any os._exit mark, the workers gone without a mark were killed by a signal;
    a worker still alive is not among them, nor the master."""
    (tmp_path / "wsgi_exits.py").write_text(_WSGI_EXITS)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    for _ in range(3):
        assert _worker(tmp_path, run_dir, "terminated").returncode == -signal.SIGTERM
    first, alive, master = _marked_pids(run_dir)
    ends = worker_ends(run_dir, master=master, live={alive})
    assert ends == WorkerEnds(os_exits=(), killed=(first,))
    verdict = exit_verdict("hypercorn", 0, ends)
    assert verdict is not None and verdict.quote
    assert verdict.words == (
        f"a worker process of hypercorn was killed by a signal during the run (pid {first}), "
        "and hypercorn exited (exit code 0)"
    )
    assert exit_verdict("hypercorn", 0, WorkerEnds(os_exits=(), killed=())) is None


def test_hypercorn_that_kills_its_idle_worker_is_said_to_end_by_the_app_s_os_exit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """hypercorn --workers 2, one request, an app that calls os._exit(1) on it: one worker
    exits, and hypercorn's master SIGTERMs the idle one, which leaves no mark. Every run
    (the order is fixed: the kill follows the exit) says the app's os._exit(1) in the worker
    that served, never a worker killed by a signal, on the server model and in trace's line."""
    (tmp_path / "aexit.py").write_text(_ASGI_EXITS)
    config = ServerConfig(app_spec="aexit:app", app_dir=str(tmp_path), workers=2)
    server = server_model("hypercorn")(config, Recorder())
    assert isinstance(server, RealServer)
    try:
        server.start()
        assert server._dir is not None
        run_dir = Path(server._dir)
        server.run_load(ClientConfig(requests=1, concurrency=1, timeout=5))
        assert server.check_exit(grace=15.0)
        (exiting,) = [int(mark.stem) for mark in run_dir.glob("*.exit")]
    finally:
        server.stop()
    assert server.exit_subject == "a worker process of hypercorn" and not server.exit_quote
    words = server.exit_words or ""
    assert words.startswith(
        f"the app called os._exit(1) in a worker process of hypercorn (pid {exiting}) "
        "during the run, and hypercorn exited (exit code "
    ), words
    say_how_it_ended(server, RunConfig(), 1, stopped=True)
    said = capsys.readouterr().err
    assert said.startswith(f"trace: {words}; ") and "killed by a signal" not in said

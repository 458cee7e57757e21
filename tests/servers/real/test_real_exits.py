"""An app that ends its server process with ``os._exit``: what was answered keeps its events,
the exit code is the one the app asked for, and workers the server replaced are counted."""

from __future__ import annotations

from pathlib import Path

import pytest
from real_helpers import run_real

from tracer import events as K
from tracer.client import ClientConfig
from tracer.recorder import Recorder
from tracer.servers import ServerConfig, server_model
from tracer.servers.real.harness import group_members
from tracer.servers.real.server import RealServer

pytestmark = pytest.mark.timeout(90)

EXIT_AT = 40

_EXITS = """
import os

served = [0]


def _count():
    served[0] += 1
    return served[0] % {every} == 0


def app(environ, start_response):
    if _count():
        os._exit(1)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


async def aapp(scope, receive, send):
    if scope["type"] != "http":
        return
    if _count():
        os._exit(1)
    await send({{"type": "http.response.start", "status": 200, "headers": []}})
    await send({{"type": "http.response.body", "body": b"ok"}})
"""


def _app_dir(tmp_path: Path, every: int) -> str:
    # A module name of its own per test: the parent imports it too (for its interface).
    (tmp_path / f"exits_every_{every}.py").write_text(_EXITS.format(every=every))
    return str(tmp_path)


@pytest.mark.parametrize(
    ("server", "attr"), [("uvicorn", "aapp"), ("waitress", "app"), ("gunicorn", "app")]
)
def test_requests_answered_before_the_app_exits_keep_their_server_events(
    tmp_path: Path, server: str, attr: str
) -> None:
    """The app calls os._exit on its 40th request: every request the client got a 200 for
    has its server-side end (the process's last ~20 ms of events used to be lost)."""
    run = run_real(
        server, f"exits_every_{EXIT_AT}:{attr}", ClientConfig(concurrency=1, requests=EXIT_AT + 5),
        app_dir=_app_dir(tmp_path, EXIT_AT),
    )  # fmt: skip
    answered = {e.req for e in run.kinds(K.CLIENT_RESPONSE) if e.data.get("status") == 200}
    ended = {e.req for e in run.kinds(K.REQUEST_END) if e.pid is not None and e.pid in run.pids}
    assert len(answered) >= EXIT_AT - 1
    assert answered - ended == set()
    # gunicorn's arbiter replaced the worker, which then served the rest.
    assert run.server.replaced_workers == (1 if server == "gunicorn" else 0)


def test_hypercorn_reports_the_code_its_worker_exited_with(tmp_path: Path) -> None:
    """hypercorn's master exits with 0 when its worker exits with 1 (its last join of the
    workers overwrites the code): the code reported is the one the app gave os._exit, said to
    be a worker's."""
    config = ServerConfig(app_spec="exits_every_3:aapp", app_dir=_app_dir(tmp_path, 3))
    server = server_model("hypercorn")(config, Recorder())
    assert isinstance(server, RealServer)
    try:
        server.start()
        server.run_load(ClientConfig(concurrency=1, requests=4))
        assert server.check_exit(grace=10.0)
        assert server.process is not None
        master = server.process.returncode_now()
    finally:
        server.stop()
        pgid = server.process.pgid if server.process is not None else None
        assert pgid is not None and group_members(pgid) == []
    assert server.exit_code == 1
    if master == 0:  # hypercorn 0.17's own code
        assert server.exit_subject == "a worker process of hypercorn"


def test_workers_a_server_restarted_during_the_run_are_counted(tmp_path: Path) -> None:
    """uvicorn --workers 2 restarts a dying worker without a word (its log says it at info
    level only): the server counts the processes that loaded the app beyond its workers."""
    run = run_real(
        "uvicorn", "exits_every_8:aapp", ClientConfig(concurrency=1, requests=20),
        app_dir=_app_dir(tmp_path, 8), workers=2,
    )  # fmt: skip
    replaced = run.server.replaced_workers
    assert replaced >= 1
    assert run.server.restart_note == (
        f"uvicorn restarted {replaced} worker process{'es' if replaced > 1 else ''} "
        "that died during the run"
    )
    assert len(run.pids) == 2 + replaced


def test_trace_run_says_the_server_restarted_workers(tmp_path: Path) -> None:
    """The count reaches the user: one line on stderr naming it, and the saved server log
    when there is one."""
    import subprocess
    import sys

    record = tmp_path / "run.jsonl"
    argv = [sys.executable, "-m", "tracer", "run", "exits_every_8:aapp", "--app-dir"]
    argv += [str(_app_dir(tmp_path, 8)), "--server", "uvicorn", "--workers", "2", "-c", "1"]
    argv += ["-n", "20", "--headless", "--record", str(record)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=80)
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "restarted" in line]
    assert len(said) == 1, done.stderr
    assert said[0].startswith("trace: uvicorn restarted ")
    # The saved log is named only when it was kept (an empty one is removed): uvicorn says
    # nothing of its workers at warning level, and the app printed nothing.
    assert ("run.server.log" in said[0]) == (tmp_path / "run.server.log").exists()

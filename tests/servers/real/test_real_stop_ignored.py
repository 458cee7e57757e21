"""A real server whose app ignores the server's stop signal: the stop kills it after its bound
and leaves one line saying so in ``notices``; a server that stops when asked leaves none."""

from __future__ import annotations

from pathlib import Path

import pytest
from real_helpers import alive

from tracer.client import ClientConfig
from tracer.recorder import Recorder
from tracer.servers import ServerConfig, server_model
from tracer.servers.real.harness import group_members
from tracer.servers.real.server import RealServer

pytestmark = pytest.mark.timeout(90)

_APPS = """
import signal


async def ignores_in_request(scope, receive, send):
    if scope["type"] != "http":
        return
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def polite(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""


def _stopped(tmp_path: Path, module: str, attr: str) -> RealServer:
    """Serve ``attr`` on uvicorn, send it two requests, stop it with a 1 s bound; check that
    no process of its group is left."""
    (tmp_path / f"{module}.py").write_text(_APPS)
    config = ServerConfig(app_spec=f"{module}:{attr}", app_dir=str(tmp_path))
    server = server_model("uvicorn")(config, Recorder())
    assert isinstance(server, RealServer)
    try:
        server.start()
        server.run_load(ClientConfig(concurrency=1, requests=2))
    finally:
        server.stop(timeout=1.0)
    assert server.process is not None and server.process.pgid is not None
    assert group_members(server.process.pgid) == [] and not alive(server.process.pgid)
    return server


def test_a_server_whose_app_ignores_sigterm_in_a_request_is_killed_and_says_so(
    tmp_path: Path,
) -> None:
    """The app sets SIGTERM to SIG_IGN in a request (uvicorn runs it in its main thread, so
    uvicorn's own handler is gone): the stop's SIGTERM does nothing, the server is killed at
    the bound, and one notice says who outlived which signal and was killed."""
    server = _stopped(tmp_path, "sig_ignored_in_request", "ignores_in_request")
    assert server.notices == [
        "uvicorn was still running 1 s after its stop signal (SIGTERM) and was killed "
        "(SIGKILL): the app ignores or handles SIGTERM (signal.signal(SIGTERM, ...) at import "
        "or in a request), hung in a request, or left a thread running that is not a daemon "
        "(Python waits for it at exit)"
    ]
    assert server.exit_code is None


def test_a_server_that_stops_when_asked_leaves_no_notice(tmp_path: Path) -> None:
    """The same server with an app that leaves the signals alone: no notice."""
    server = _stopped(tmp_path, "sig_polite", "polite")
    assert server.notices == []

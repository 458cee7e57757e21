"""The line saying a real server's stop had to kill names the requests still in the app
whose clients closed on purpose (``--read-for``), not the causes it cannot know of."""

from __future__ import annotations

import pytest
from real_helpers import ROOT, alive

from tracer.recorder import Recorder
from tracer.run import RunConfig, open_server, run
from tracer.servers.real.harness import group_members
from tracer.servers.real.server import RealServer

pytestmark = pytest.mark.timeout(90)


def test_the_kill_line_names_requests_left_by_their_clients_on_uvicorn() -> None:
    """uvicorn drops the sends of an app whose client has gone without telling it, so the
    bundled streaming app (3,000 chunks 10 ms apart: 30 s) runs on after each client read for
    0.2 s and closed; the stop's bound (the server's ``stop_timeout``, 1 s here: the app
    runs 30 s) kills the server, and the line says that both requests were still in the app
    after their clients had closed on purpose."""
    config = RunConfig(
        app="sample_apps.streaming:asgi_app", app_dir=ROOT, server="uvicorn", concurrency=2,
        requests=2, timeout=10, paths=("/?chunks=3000&ms=10",),
        server_options={"read_for": 0.2},
    )  # fmt: skip
    recorder = Recorder()
    server = open_server(config, recorder)
    assert isinstance(server, RealServer)
    server.stop_timeout = 1.0  # what the run gives the stop before it kills
    result = run(config, recorder, server=server)
    pgid = server.process.pgid if server.process is not None else None
    assert pgid is not None and group_members(pgid) == [] and not alive(pgid)
    assert result.stats.status == {200: 2} and result.stats.errors == 0
    assert server.process is not None
    killed = server.process.killed
    assert killed is not None
    assert "2 requests were still running in the app after their clients had closed on " in (killed)
    assert "hung in a request" not in killed

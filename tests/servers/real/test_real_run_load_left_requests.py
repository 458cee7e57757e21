"""``RealServer.run_load`` (the client's own driver, as the benchmarks drive a server) counts
the requests whose client closed on purpose as ``trace run``'s load generator does: the line
saying the stop had to kill names them, not causes it cannot know of."""

from __future__ import annotations

import pytest
from real_helpers import ROOT, run_real

from tracer.client import ClientConfig

pytestmark = pytest.mark.timeout(90)


def test_run_load_names_requests_left_by_their_clients_in_the_kill_line() -> None:
    """uvicorn drops the sends of an app whose client has gone without telling it, so the
    bundled streaming app (3,000 chunks 10 ms apart: 30 s) runs on after each client read for
    0.2 s and closed; the stop's bound (1 s here: the app runs 30 s) kills the server."""
    run = run_real(
        "uvicorn",
        "sample_apps.streaming:asgi_app",
        ClientConfig(
            concurrency=2,
            requests=2,
            read_for=0.2,
            timeout=10,
            paths=("/?chunks=3000&ms=10",),
        ),
        app_dir=ROOT,
        stop_timeout=1.0,
    )
    assert run.stats.closed == 2 and run.stats.errors == 0
    assert run.server.process is not None
    killed = run.server.process.killed
    assert killed is not None
    assert "2 requests were still running in the app after their clients had closed on " in (killed)
    assert "hung in a request" not in killed

"""A stop (Ctrl-C) on a real server lets the requests in flight finish within the server's
stop bound before their clients are cancelled: one the app answers meanwhile ends normally
(the client's view is the outcome on a real server), as on the in-process models."""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import quote

import pytest
from real_helpers import HERE

from tracer import events as K
from tracer.loadgen import LoadStats
from tracer.recorder import Recorder
from tracer.run import RunConfig, run

pytestmark = pytest.mark.timeout(90)


def test_requests_the_app_answers_after_the_stop_began_end_normally(tmp_path: Path) -> None:
    """uvicorn, two requests held by the app; the run is stopped once the app has both, and
    the app lets them go only once the load has begun stopping (``stats.stopped``, set before
    any request is cancelled). Each client gets its 200: no error, none cancelled."""
    stop = threading.Event()

    def progress(stats: LoadStats) -> None:
        if len(list(tmp_path.glob("started-*"))) >= 2:
            stop.set()
        if stats.stopped:
            (tmp_path / "release").touch()

    recorder = Recorder()
    config = RunConfig(
        app="real_held_asgi:app", app_dir=HERE, server="uvicorn", concurrency=2, duration=60,
        paths=(f"/?dir={quote(str(tmp_path))}",),
    )  # fmt: skip
    result = run(config, recorder, stop=stop, progress=progress)
    assert result.stopped
    events = recorder.events
    reqs = {e.req for e in events if e.kind == K.CLIENT_SEND}
    assert len(reqs) == 2
    for req in reqs:
        (response,) = [e for e in events if e.kind == K.CLIENT_RESPONSE and e.req == req]
        assert response.data["status"] == 200 and "error" not in response.data
        ends = [e.data for e in events if e.kind == K.REQUEST_END and e.req == req]
        assert [(end["status"], end["error"]) for end in ends] == [(200, None)]
    stats = result.stats
    assert (stats.errors, stats.cancelled, stats.status) == (0, 0, {200: 2})

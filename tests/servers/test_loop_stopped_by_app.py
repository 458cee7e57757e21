"""An ASGI app that stops the ``loop`` model's event loop (``loop.stop()``) in a request: the
model ends as uvicorn's process does, and says so, instead of leaving its clients to time out."""

from __future__ import annotations

from pathlib import Path

import pytest
from stopping_apps import STOPS_LOOP_ON_3RD

from tracer import events as K
from tracer.recorder import Recorder
from tracer.run import RunConfig, run
from tracer.servers import CANCELLED

pytestmark = pytest.mark.timeout(60)


def test_an_app_that_stops_the_loop_ends_the_run_as_uvicorn_exits(tmp_path: Path) -> None:
    """The 3rd request calls loop.stop(): it is answered (the stop comes at the end of the
    loop's turn), an error on it names uvicorn's "Event loop stopped before Future
    completed." and the line of the call, the load stops with exit code 1 (uvicorn's), and
    no request waits for its client's timeout: the rest end as cancelled."""
    (tmp_path / "stops_loop_3rd.py").write_text(STOPS_LOOP_ON_3RD)
    recorder = Recorder()
    config = RunConfig(
        app="stops_loop_3rd:app",
        app_dir=str(tmp_path),
        server="loop",
        concurrency=1,
        requests=10,
        timeout=2.0,
    )
    result = run(config, recorder)
    events = recorder.events
    assert result.server_exit == 1
    assert result.stats.timeouts == 0 and result.stats.sent < 10
    http = [e.req for e in events if e.kind == K.REQUEST_START and e.data["scope_type"] == "http"]
    assert len(http) == 3
    first_end: dict[int, dict[str, object]] = {}
    for event in sorted(events, key=lambda e: (e.t, e.seq)):
        if event.kind == K.REQUEST_END and event.req not in first_end:
            first_end[event.req] = event.data
    assert [first_end[req]["status"] for req in http] == [200, 200, 200]
    queued = [e.req for e in events if e.kind == K.REQUEST_QUEUED]
    assert set(queued) <= set(first_end)
    assert {first_end[req]["error"] for req in queued if req not in http} <= {CANCELLED}
    line = STOPS_LOOP_ON_3RD.splitlines().index("        asyncio.get_running_loop().stop()") + 1
    errors = [(e.req, e.data) for e in events if e.kind == K.ERROR]
    assert errors == [
        (
            http[2],
            {
                "type": "RuntimeError",
                "message": "Event loop stopped before Future completed.",
                "where": f"{tmp_path / 'stops_loop_3rd.py'}:{line}",
            },
        )
    ]

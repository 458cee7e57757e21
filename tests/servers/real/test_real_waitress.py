"""``--server waitress``: one process, a FIFO task queue and ``threads`` worker threads."""

from __future__ import annotations

import pytest
from real_helpers import in_flight_max, run_real

from tracer import events as K
from tracer.client import ClientConfig
from tracer.errors import InterfaceError
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(90)


def test_at_most_threads_in_flight_and_the_rest_queue() -> None:
    """--threads 2, 6 clients on a 40 ms handler: never more than 2 requests in the app, on
    2 distinct threads; the others waited before the app saw them (queue time)."""
    run = run_real(
        "waitress", "sample_apps.io_bound:wsgi_app",
        ClientConfig(concurrency=6, requests=18, paths=("/?ms=40",)), threads=2,
    )  # fmt: skip
    assert run.stats.status == {200: 18}
    assert in_flight_max(run.events) == 2
    starts = [e for e in run.kinds(K.REQUEST_START) if e.req in run.client_reqs()]
    assert len({e.tid for e in starts}) == 2
    summary = summarize(run.events)
    assert summary["completed"] == 18
    assert summary["queue_ms"]["max"] > 0


def test_asgi_app_is_refused_with_a_hint() -> None:
    """waitress serves WSGI only: an ASGI app is an InterfaceError naming a server that fits."""
    with pytest.raises(InterfaceError, match="--server uvicorn") as info:
        run_real("waitress", "sample_apps.hello:asgi_app", ClientConfig(requests=1))
    assert str(info.value).startswith("sample_apps.hello:asgi_app is an ASGI app, but ")

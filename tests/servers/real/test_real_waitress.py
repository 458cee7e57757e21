"""``--server waitress``: one process, a FIFO task queue and ``threads`` worker threads."""

from __future__ import annotations

import resource

import pytest
from real_helpers import HERE, in_flight_max, run_real
from real_many_files import FD_SETSIZE

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


@pytest.mark.skipif(
    resource.getrlimit(resource.RLIMIT_NOFILE)[1] < FD_SETSIZE + 256,
    reason="the hard limit of open files is below what the app holds",
)
def test_sockets_past_fd_setsize_are_served() -> None:
    """The app's process holds more than 1,024 files open, so each connection waitress
    accepts has a descriptor past FD_SETSIZE. With waitress's default select() loop the first
    one killed the server ("filedescriptor out of range in select()"), as 1,000 connections
    do; on poll() every request is answered."""
    run = run_real(
        "waitress", "real_many_files:app",
        ClientConfig(concurrency=3, requests=12), app_dir=HERE,
    )  # fmt: skip
    assert run.stats.status == {200: 12}
    ends = [e for e in run.kinds(K.REQUEST_END) if e.req in run.client_reqs()]
    assert sorted(e.req for e in ends) == sorted(run.client_reqs())
    assert run.server.exit_code is None

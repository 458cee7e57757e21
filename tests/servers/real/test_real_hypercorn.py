"""``--server hypercorn``: HTTP/1.1 and HTTP/2 (cleartext) with the shim inside."""

from __future__ import annotations

import pytest
from real_helpers import run_real

from tracer import events as K
from tracer.client import ClientConfig

pytestmark = pytest.mark.timeout(90)


def test_http2_requests_arrive_as_http2_streams() -> None:
    """--http2: 40 requests on one connection; the app's scopes say HTTP/2, all 200."""
    run = run_real(
        "hypercorn", "sample_apps.hello:asgi_app",
        ClientConfig(concurrency=10, requests=40, http2=True), http2=True,
    )  # fmt: skip
    assert run.stats.status == {200: 40}
    assert run.stats.connections == 1
    starts = [e for e in run.kinds(K.REQUEST_START) if e.req in run.client_reqs()]
    assert len(starts) == 40
    assert {e.data["http_version"] for e in starts} == {"2"}
    assert run.server.describe()["http2"] is True


def test_io_sleep_requests_interleave_on_one_loop() -> None:
    """An awaiting handler on hypercorn's one worker: requests overlap on a single thread."""
    run = run_real(
        "hypercorn", "sample_apps.io_bound:asgi_app",
        ClientConfig(concurrency=6, requests=18, paths=("/?ms=40",)),
    )  # fmt: skip
    assert run.stats.status == {200: 18}
    starts = [e for e in run.kinds(K.REQUEST_START) if e.req in run.client_reqs()]
    assert len({(e.pid, e.tid) for e in starts}) == 1
    from real_helpers import in_flight_max

    assert in_flight_max(run.events) > 1

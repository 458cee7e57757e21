"""``--server granian``: the Rust server, ASGI and WSGI, HTTP/1.1 and HTTP/2."""

from __future__ import annotations

import pytest
from real_helpers import in_flight_max, run_real

from tracer import events as K
from tracer.client import ClientConfig

pytest.importorskip("granian")
pytestmark = pytest.mark.timeout(90)


def test_asgi_over_http2_with_two_workers() -> None:
    """--http2 --workers 2: two processes load the app; every request arrives as HTTP/2."""
    run = run_real(
        "granian", "sample_apps.hello:asgi_app",
        ClientConfig(concurrency=8, requests=40, http2=True), workers=2, http2=True,
    )  # fmt: skip
    assert run.stats.status == {200: 40}
    assert len(run.pids) == 2
    starts = [e for e in run.kinds(K.REQUEST_START) if e.req in run.client_reqs()]
    assert len(starts) == 40 and {e.data["http_version"] for e in starts} == {"2"}


def test_wsgi_blocking_threads_bound_the_requests_in_flight() -> None:
    """A WSGI app on --threads 2 (granian's blocking threads), 6 clients on a 40 ms handler:
    exactly 2 requests in the app at once."""
    run = run_real(
        "granian", "sample_apps.io_bound:wsgi_app",
        ClientConfig(concurrency=6, requests=12, paths=("/?ms=40",)), threads=2,
    )  # fmt: skip
    assert run.stats.status == {200: 12}
    assert in_flight_max(run.events) == 2
    assert run.server.describe()["threads"] == 2


def test_threads_are_for_wsgi_apps_and_the_header_claims_no_count_it_did_not_set() -> None:
    """--threads with an ASGI app was silently ignored; without --threads the header said
    threads 1 while granian ran its own count (20 requests were seen in flight)."""
    from tracer.errors import UsageError
    from tracer.recorder import Recorder
    from tracer.servers import ServerConfig
    from tracer.servers.real.granian import GranianServer

    with pytest.raises(UsageError, match="--threads does not apply to --server granian"):
        GranianServer(ServerConfig(app_spec="sample_apps.hello:asgi_app", threads=4), Recorder())
    wsgi = GranianServer(ServerConfig(app_spec="sample_apps.hello:application"), Recorder())
    assert "threads" not in wsgi.describe()


def test_the_header_says_the_loop_it_was_given() -> None:
    """--loop asyncio reached granian's command line but not the recording's header (uvicorn's
    header has it): a recording must say what ran."""
    from tracer.recorder import Recorder
    from tracer.servers import ServerConfig
    from tracer.servers.real.granian import GranianServer

    config = ServerConfig(app_spec="sample_apps.hello:asgi_app", options={"loop": "asyncio"})
    server = GranianServer(config, Recorder())
    assert server.describe()["loop"] == "asyncio"
    assert "--loop" in server.command("127.0.0.1", 8000)
    plain = GranianServer(ServerConfig(app_spec="sample_apps.hello:asgi_app"), Recorder())
    assert "loop" not in plain.describe()

"""The driver's pacing: closed loop, open loop (--rate), duration, timeouts."""

from __future__ import annotations

import pytest
from client_servers import HOST, in_flight_max, serve_uvicorn

from tracer import events as K
from tracer.client import ClientConfig, run_client
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)


def test_closed_loop_keeps_exactly_c_in_flight() -> None:
    """Closed loop, c=4, slow responses: never more than 4 in flight, and 4 at some point."""
    recorder = Recorder()
    with serve_uvicorn() as port:
        stats = run_client(
            HOST, port, ClientConfig(concurrency=4, requests=12, paths=("/slow?ms=30",)),
            recorder=recorder,
        )  # fmt: skip
    assert stats.completed == 12
    assert in_flight_max(recorder) == 4


def test_open_loop_never_sends_early() -> None:
    """--rate 100: request i leaves no earlier than i/100 s after the load began (what the
    pacer guarantees, whatever the machine's load), and the count is exact."""
    import asyncio

    from tracer.client import Driver

    recorder = Recorder()
    with serve_uvicorn() as port:
        driver = Driver(
            HOST, port, ClientConfig(concurrency=4, requests=15, rate=100.0), recorder=recorder
        )
        stats = asyncio.run(driver.run())
    assert stats.completed == 15
    sends = sorted(e.t for e in recorder.events if e.kind == K.CLIENT_SEND)
    origin = driver.started - recorder.start_ns
    assert len(sends) == 15
    for i, t in enumerate(sends):
        assert t >= origin + i * 10_000_000


def test_open_loop_backlog_waits_for_a_free_slot() -> None:
    """Open loop faster than the slots can serve: requests wait in the client, none is lost,
    and the in-flight count never passes the slot count."""
    recorder = Recorder()
    with serve_uvicorn() as port:
        stats = run_client(
            HOST, port,
            ClientConfig(concurrency=2, requests=8, rate=1000.0, paths=("/slow?ms=20",)),
            recorder=recorder,
        )  # fmt: skip
    assert stats.completed == 8
    assert in_flight_max(recorder) == 2


def test_duration_stops_sending_new_requests() -> None:
    """-z: with no request count, the client stops starting requests when the time is up and
    waits for the ones in flight."""
    with serve_uvicorn() as port:
        stats = run_client(
            HOST, port,
            ClientConfig(concurrency=2, requests=None, duration=0.2, paths=("/slow?ms=20",)),
        )  # fmt: skip
    assert stats.sent == stats.completed > 0
    assert stats.errors == 0


def test_timeout_aborts_a_stuck_request() -> None:
    """A response slower than the timeout counts as a TimeoutError, recorded with no status."""
    recorder = Recorder()
    with serve_uvicorn() as port:
        stats = run_client(
            HOST, port,
            ClientConfig(concurrency=1, requests=1, timeout=0.2, paths=("/slow?ms=1000",)),
            recorder=recorder,
        )  # fmt: skip
    assert stats.error_types == {"TimeoutError": 1}
    (event,) = [e for e in recorder.events if e.kind == K.CLIENT_RESPONSE]
    assert event.data["status"] is None and event.data["error"] == "TimeoutError"

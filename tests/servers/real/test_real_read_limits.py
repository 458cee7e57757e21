"""A client that stops reading on purpose (``read_for``, ``read_bytes``) and one that reads
slowly (``read_rate``), against real servers: uvicorn, waitress (WSGI), hypercorn over HTTP/2."""

from __future__ import annotations

import pytest
from real_helpers import HERE, Run, run_real
from real_streams import BIG_CHUNK, BIG_CHUNKS, CHUNK

from tracer import events as K
from tracer.client import ClientConfig

pytestmark = pytest.mark.timeout(90)

STREAM_CHUNKS = 60
STREAM = f"/?chunks={STREAM_CHUNKS}"
"""The path of an event stream of 60 chunks, 20 ms apart (1.2 s at least): far longer than
the clients here read it, and short enough that a server running it to its end after its
client left (uvicorn, hypercorn) soon stops."""
STREAM_BYTES = len(CHUNK) * STREAM_CHUNKS
"""The whole event stream."""


def _responses(run: Run) -> list[dict[str, object]]:
    return [e.data for e in run.kinds(K.CLIENT_RESPONSE) if e.req in run.client_reqs()]


def _closed_by_client(run: Run, reason: str, requests: int) -> list[dict[str, object]]:
    """Every request answered 200, closed by the client for ``reason``, none an error."""
    responses = _responses(run)
    assert len(responses) == requests
    for data in responses:
        assert data["status"] == 200
        assert data["client_closed"] == reason
        assert "error" not in data and "message" not in data
        assert 0 < data["bytes"] < STREAM_BYTES  # type: ignore[operator]
    assert run.stats.errors == 0
    assert run.stats.completed == requests and run.stats.closed == requests
    assert run.stats.status == {200: requests}
    return responses


def test_read_for_closes_an_event_stream_on_uvicorn() -> None:
    """--read-for 0.3s on a 1.2 s event stream: each response is closed by the client with what
    came, recorded as closed on purpose, and the next request goes on a new connection."""
    run = run_real(
        "uvicorn", "real_streams:asgi_stream",
        ClientConfig(concurrency=1, requests=2, read_for=0.3, timeout=10, paths=(STREAM,)),
        app_dir=HERE,
    )  # fmt: skip
    _closed_by_client(run, "read-for", 2)
    assert run.stats.connections == 2


def test_read_bytes_closes_a_wsgi_generator_on_waitress() -> None:
    """--read-bytes 5000 on a WSGI generator's stream: closed once 5,000 body bytes came."""
    run = run_real(
        "waitress", "real_streams:wsgi_stream",
        ClientConfig(concurrency=1, requests=2, read_bytes=5000, timeout=10, paths=(STREAM,)),
        app_dir=HERE,
    )  # fmt: skip
    for data in _closed_by_client(run, "read-bytes", 2):
        assert data["bytes"] >= 5000  # type: ignore[operator]


def test_read_for_cancels_the_stream_and_keeps_the_http2_connection() -> None:
    """Over HTTP/2 the client cancels the stream (RST_STREAM CANCEL): the responses are
    closed on purpose and all three requests share one connection."""
    pytest.importorskip("h2")
    run = run_real(
        "hypercorn", "real_streams:asgi_stream",
        ClientConfig(
            concurrency=1, requests=3, read_for=0.2, timeout=10, http2=True, paths=(STREAM,)
        ),
        # After streams the client cancelled, hypercorn's stop waits out its own graceful
        # timeout (3 s): killed after 1 s instead, once all asked here has happened.
        app_dir=HERE, http2=True, stop_timeout=1.0,
    )  # fmt: skip
    _closed_by_client(run, "read-for", 3)
    assert run.stats.connections == 1


def test_a_response_shorter_than_read_bytes_is_read_to_its_end() -> None:
    """A limit the response never reaches changes nothing: read whole, no ``client_closed``."""
    run = run_real(
        "uvicorn", "real_streams:asgi_big",
        ClientConfig(concurrency=1, requests=2, read_bytes=10**9, read_for=60, timeout=70),
        app_dir=HERE,
    )  # fmt: skip
    for data in _responses(run):
        assert data["status"] == 200 and data["bytes"] == len(BIG_CHUNK) * BIG_CHUNKS
        assert "client_closed" not in data
    assert run.stats.closed == 0 and run.stats.completed == 2 and run.stats.connections == 1


def test_read_rate_reads_no_faster_than_asked() -> None:
    """--read-rate 4 MiB/s on a 4 MiB response: the client reads a tenth of a second's worth
    at a time and waits for each to be due, so the body takes at least its size over the
    rate, less the first read; the response is whole."""
    rate = 4 * 1024 * 1024
    size = len(BIG_CHUNK) * BIG_CHUNKS
    run = run_real(
        "uvicorn", "real_streams:asgi_big",
        ClientConfig(concurrency=1, requests=1, read_rate=rate, timeout=30), app_dir=HERE,
    )  # fmt: skip
    (data,) = _responses(run)
    assert data["status"] == 200 and data["bytes"] == size and "client_closed" not in data
    reading_ns = data["total_ns"] - data["ttfb_ns"]  # type: ignore[operator]
    assert reading_ns >= (size - rate // 10) / rate * 1e9

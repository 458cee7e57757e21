"""``--read-for`` with ``--read-rate`` on a real uvicorn: the read runs for D from the
response's first byte, even when the head alone, read slowly, takes longer than D."""

from __future__ import annotations

import pytest
from real_helpers import HERE, run_real

from tracer import events as K
from tracer.client import ClientConfig

pytestmark = pytest.mark.timeout(90)

RATE = 100
"""Bytes a second: uvicorn's head for an event stream (about 120 bytes) takes over a second."""
READ_FOR = 0.3


def test_read_for_counts_from_the_first_byte_of_a_slowly_read_head() -> None:
    """Each response is closed ``READ_FOR`` after its first byte, give or take one of the
    client's read pauses (a read of ``RATE / 10`` bytes, then ``RATE / 10 / RATE`` seconds
    without reading), not once the head has trickled in: the head is not whole by then, so
    the status is unknown (null) and no body byte came."""
    run = run_real(
        "uvicorn", "real_streams:asgi_stream",
        ClientConfig(
            concurrency=1, requests=2, read_for=READ_FOR, read_rate=RATE, timeout=30,
            paths=("/?chunks=60",),  # 1.2 s: its server runs it to its end after the close
        ),
        app_dir=HERE,
    )  # fmt: skip
    responses = [e.data for e in run.kinds(K.CLIENT_RESPONSE) if e.req in run.client_reqs()]
    assert len(responses) == 2
    pause_ns = (RATE // 10) / RATE * 1e9
    for data in responses:
        assert data["client_closed"] == "read-for"
        assert "error" not in data
        assert data["status"] is None and data["bytes"] == 0
        reading_ns = data["total_ns"] - data["ttfb_ns"]
        assert READ_FOR * 1e9 <= reading_ns <= READ_FOR * 1e9 + pause_ns
    assert run.stats.errors == 0 and run.stats.closed == 2 and run.stats.completed == 2

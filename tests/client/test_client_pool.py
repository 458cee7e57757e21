"""The pool: one awaited request at a time, connections reused per request shape."""

from __future__ import annotations

import asyncio

import pytest
from client_servers import HOST, serve_uvicorn

from tracer import events as K
from tracer.client.pool import Pool
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)


def test_requests_reuse_connections_and_record() -> None:
    """20 sequential requests reuse one connection; 5 concurrent ones need 5; outcomes carry
    status and body size; each request is recorded under the id given."""
    recorder = Recorder()

    async def main(port: int) -> tuple[list[object], int, int]:
        pool = Pool(HOST, port, recorder=recorder)
        results = [await pool.request(i, "/", timeout=10) for i in range(1, 21)]
        sequential = pool.stats.connections
        results += await asyncio.gather(*(pool.request(i, "/", timeout=10) for i in range(21, 26)))
        pool.close()
        return results, sequential, pool.stats.connections

    with serve_uvicorn() as port:
        results, sequential, total = asyncio.run(main(port))
    assert sequential == 1 and total == 5
    assert results[0] == (200, len(b"req=1"), None)
    assert len(results) == 25 and all(r[0] == 200 for r in results)
    assert {e.req for e in recorder.events if e.kind == K.CLIENT_RESPONSE} == set(range(1, 26))


def test_timeout_returns_an_outcome() -> None:
    """A request slower than its timeout comes back as (None, 0, "timeout") and the pool goes on."""

    async def main(port: int) -> tuple[object, object]:
        pool = Pool(HOST, port)
        slow = await pool.request(1, "/slow?ms=2000", timeout=0.1)
        fast = await pool.request(2, "/", timeout=10)
        pool.close()
        return slow, fast

    with serve_uvicorn() as port:
        slow, fast = asyncio.run(main(port))
    assert slow == (None, 0, "timeout")
    assert fast == (200, len(b"req=2"), None)

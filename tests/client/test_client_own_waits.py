"""The client's pacing and timeouts are its own when an app in the same process replaces
``asyncio.sleep`` or ``asyncio.wait_for`` (``trace run`` imports the app beside the client to
learn its interface; test suites make sleeps instant so)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from client_servers import HOST, serve_raw

from tracer import events as K
from tracer.client import ClientConfig, run_client
from tracer.client.pool import Pool
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(20)

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class InstantSleep:
    """A test helper's sleep: returns at once, never suspending. It counts its calls, and
    past a thousand it yields after all, so that a client spinning on it shows as calls
    instead of holding the test's loop for ever."""

    def __init__(self) -> None:
        self.calls = 0
        self._yield = asyncio.sleep

    async def __call__(self, delay: float, result: Any = None) -> Any:
        self.calls += 1
        if self.calls > 1000:
            await self._yield(0)
        return result


async def _answer(req: int, writer: asyncio.StreamWriter) -> None:
    writer.write(OK)
    await writer.drain()


@pytest.mark.parametrize("rate", [None, 200.0])
def test_an_instant_asyncio_sleep_does_not_hold_the_driver(
    monkeypatch: pytest.MonkeyPatch, rate: float | None
) -> None:
    """``asyncio.sleep`` replaced by one that never suspends: the closed loop and the open
    loop send all their requests and end, their naps never going through it (the sweeper's
    and the pacer's naps spun on it for ever, and no request was ever answered)."""
    recorder = Recorder()
    instant = InstantSleep()
    with serve_raw(_answer) as port:
        monkeypatch.setattr(asyncio, "sleep", instant)
        config = ClientConfig(concurrency=2, requests=10, rate=rate, timeout=5)
        stats = run_client(HOST, port, config, recorder=recorder)
        monkeypatch.undo()
    assert instant.calls == 0
    assert (stats.completed, stats.errors, stats.status) == (10, 0, {200: 10})
    sends = [e for e in recorder.events if e.kind == K.CLIENT_SEND]
    assert len(sends) == 10


def test_a_wait_for_without_timeouts_does_not_stop_the_pools_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``asyncio.wait_for`` replaced by one that ignores its timeout: a request to a server
    that never answers still times out at the pool's ``timeout`` (it waited for ever)."""

    async def never(req: int, writer: asyncio.StreamWriter) -> None:
        await asyncio.Event().wait()

    async def no_timeout(awaitable: Any, timeout: float | None) -> Any:
        return await awaitable

    async def main(port: int) -> tuple[int | None, int, str | None]:
        pool = Pool(HOST, port, recorder=Recorder())
        try:
            return await pool.request(1, "/", timeout=0.2)
        finally:
            pool.close()

    with serve_raw(never) as port:
        monkeypatch.setattr(asyncio, "wait_for", no_timeout)
        outcome = asyncio.run(main(port))
        monkeypatch.undo()
    assert outcome == (None, 0, "timeout")

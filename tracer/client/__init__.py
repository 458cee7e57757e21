"""The network load client: real sockets to a real server, and what the client saw, recorded.

HTTP/1.1 with keep-alive (or a new connection per request), HTTP/2 (h2), WebSocket sessions
(wsproto); closed loop (``concurrency``) or open loop (``rate``). Every request carries
``x-gateway-tracer-req: <id>`` so the server side records under the same ``req``; the client
records ``client.send`` and ``request.queued`` when a request leaves and ``client.response``
(status, ``ttfb_ns``, ``total_ns``, bytes) when its answer is in.

    stats = run_client("127.0.0.1", 8000, ClientConfig(concurrency=50, requests=2000), recorder=rec)

Must not import the TUI, exporters, shims or server models.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tracer.client.config import REQUEST_ID_HEADER, ClientConfig, ClientStats
from tracer.client.driver import Driver
from tracer.recorder import Recorder

__all__ = ["ClientConfig", "ClientStats", "Driver", "REQUEST_ID_HEADER", "run_client", "drive"]


async def drive(
    host: str, port: int, config: ClientConfig, *, recorder: Recorder | None = None
) -> ClientStats:
    """Send ``config``'s load to ``host:port`` on the running loop; returns the client's stats."""
    return await Driver(host, port, config, recorder=recorder).run()


def run_client(
    host: str,
    port: int,
    config: ClientConfig,
    *,
    recorder: Recorder | None = None,
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> ClientStats:
    """Run the load on a fresh event loop in this thread and return the client's stats."""
    loop = (loop_factory or asyncio.new_event_loop)()
    try:
        return loop.run_until_complete(drive(host, port, config, recorder=recorder))
    finally:
        loop.close()

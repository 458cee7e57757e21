"""``make_slots``: the slots a load needs, by transport (HTTP/1.1, HTTP/2, WebSocket).

Imports only ``tracer.client``'s own modules (h2 and wsproto only when asked for).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from tracer.client.config import ClientConfig

if TYPE_CHECKING:
    from tracer.client.sink import Sink, Slot

__all__ = ["make_slots"]


def make_slots(driver: Sink, config: ClientConfig, host: str, port: int) -> list[Slot]:
    """``config.concurrency`` slots of the transport ``config`` asks for."""
    count = max(1, config.concurrency)
    if config.ws_messages is not None:
        from tracer.client.websocket import WsSlot

        return [WsSlot(driver, config, host, port) for _ in range(count)]
    if config.http2:
        from tracer.client.http2 import H2Client, H2Slot

        per = max(1, config.streams_per_connection)
        clients = [H2Client(driver, config, host, port) for _ in range(math.ceil(count / per))]
        for i in range(count):
            clients[i // per].slot_count += 1
        return [H2Slot(driver, clients[i // per]) for i in range(count)]
    from tracer.client.http1 import Http1Slot

    return [Http1Slot(driver, config, host, port) for _ in range(count)]

"""``Pool``: one awaitable request at a time over reused connections, for callers that pace
the load themselves (``trace run``'s load generator talks to a real server through it).

Slots are kept idle per request shape (method, headers, body, WebSocket messages), so a keep-alive
connection is reused by the next request of the same shape. Records exactly as the ``Driver``.
Imports only the client's own modules and the spine.
"""

from __future__ import annotations

import asyncio
import time

# Bound now, before any app is imported (``trace run`` imports it beside this client to learn
# its interface): a request's timeout must not be what an app's replacement makes of it.
from asyncio import get_running_loop, shield, wait_for
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from tracer.client.config import ClientConfig
from tracer.client.sink import STOPPED, Sink, timeout_error
from tracer.recorder import Recorder

__all__ = ["Pool", "Outcome"]

Outcome = tuple[int | None, int, str | None]
"""``(status, body bytes, error type)``: status None when there was no response; a status and
an error for a response cut short (the bytes are those that came)."""

_TIMEOUT = "timeout"


class Pool(Sink):
    """Sends single requests to ``host:port`` on the running loop, reusing connections."""

    def __init__(
        self,
        host: str,
        port: int,
        config: ClientConfig | None = None,
        *,
        recorder: Recorder | None = None,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        super().__init__(host, port, config or ClientConfig(), recorder=recorder, clock=clock)
        self._idle: dict[tuple[Any, ...], list[Any]] = {}
        self._shapes: dict[tuple[Any, ...], ClientConfig] = {}
        self._all: list[Any] = []
        self._h2: dict[tuple[Any, ...], list[Any]] = {}
        self.on_closed: Callable[[int], None] | None = None
        """Called with a request's id when its client closed it on purpose (``read_for``,
        ``read_bytes``), before its caller has the outcome: the server may run on with it."""

    def finished(
        self,
        slot: Any,
        req: int,
        sent: int,
        first: int,
        status: int | None,
        nbytes: int,
        **extra: Any,
    ) -> None:
        """As ``Sink.finished``; a response closed on purpose is told to ``on_closed``."""
        if "client_closed" in extra and self.on_closed is not None:
            self.on_closed(req)
        super().finished(slot, req, sent, first, status, nbytes, **extra)

    async def request(
        self,
        req: int,
        path: str,
        *,
        method: str = "GET",
        headers: tuple[tuple[str, str], ...] = (),
        body: bytes = b"",
        ws_messages: int | None = None,
        timeout: float | None = None,
    ) -> Outcome:
        """Send one request with id ``req`` and wait for its outcome.

        A timeout aborts the exchange and returns ``(None, 0, "timeout")`` (or the status and
        body bytes of a response it cut short); cancellation aborts it and re-raises.
        """
        if self._loop is None:
            self.bind()
        key = (method, headers, body, ws_messages)
        slot = self._take(key)
        future: asyncio.Future[Outcome] = get_running_loop().create_future()
        slot.future = future
        slot.key = key
        slot.result = (None, 0, None)
        slot.submit(req, path)
        try:
            return await wait_for(shield(future), timeout)
        except TimeoutError:
            slot.future = None
            slot.abort(timeout_error(timeout or 0.0))
            # A response cut by the timeout keeps the status and the bytes that came.
            status, nbytes, _ = slot.result
            return (status, nbytes, _TIMEOUT)
        except asyncio.CancelledError:
            slot.future = None
            slot.abort(asyncio.CancelledError(STOPPED))
            raise

    def after(self, slot: Any, ok: bool) -> None:
        """Wake the caller and put the slot back for the next request of its shape."""
        future, slot.future = slot.future, None
        if future is not None and not future.done():
            future.set_result(slot.result)
        self._idle.setdefault(slot.key, []).append(slot)

    def close(self) -> None:
        """Close every connection."""
        for slot in self._all:
            slot.close()
        self._idle.clear()

    def _take(self, key: tuple[Any, ...]) -> Any:
        idle = self._idle.get(key)
        if idle:
            return idle.pop()
        config = self._shapes.get(key)
        if config is None:
            method, headers, body, ws_messages = key
            config = replace(
                self.config,
                method=method,
                headers=headers,
                body=body,
                ws_messages=ws_messages,
                concurrency=1,
            )
            self._shapes[key] = config
        slot = self._new_slot(key, config)
        self._all.append(slot)
        return slot

    def _new_slot(self, key: tuple[Any, ...], config: ClientConfig) -> Any:
        if config.ws_messages is not None:
            from tracer.client.websocket import WsSlot

            return WsSlot(self, config, self.host, self.port)
        if config.http2:
            from tracer.client.http2 import H2Client, H2Slot

            # Streams of one shape share connections, up to the per-connection stream limit.
            clients = self._h2.setdefault(key, [])
            client = next(
                (c for c in clients if c.slot_count < config.streams_per_connection), None
            )
            if client is None:
                client = H2Client(self, config, self.host, self.port)
                clients.append(client)
            client.slot_count += 1
            return H2Slot(self, client)
        from tracer.client.http1 import Http1Slot

        return Http1Slot(self, config, self.host, self.port)

"""The ``Driver``: paces requests over slots (a closed loop of ``concurrency`` slots, or an open
loop at ``rate``) and records what the client saw as ``client.send`` / ``request.queued`` /
``client.response`` events.

Its open loop is a fixed schedule, request i due at ``i / rate`` seconds after the start: the
library's and the benchmarks' client, for measuring a server at an exact, repeatable rate. No
command uses it: ``trace run --rate`` sends at Poisson times (``tracer.loadgen.drive``, through
each server model's ``target``, a real server's too), as its documentation promises.

A slot carries one request at a time: an HTTP/1.1 connection, one stream of a shared HTTP/2
connection, or a WebSocket session. The driver asks a slot to ``submit`` and the slot calls back
``send`` (the request leaves now), then ``finished`` or ``failed``. Everything runs on one event
loop thread. Imports only the client's own modules and the spine
(``tracer.recorder``).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time

# The pacer's and the sweeper's naps, bound now, before any app is imported: an app that
# replaces ``asyncio.sleep`` in this process (a fake that returns at once, never suspending)
# would otherwise turn them into spins that never let the loop run a request.
from asyncio import sleep
from collections.abc import Callable

from tracer.client.config import ClientConfig, ClientStats
from tracer.client.sink import Sink, Slot, timeout_error
from tracer.recorder import Recorder

__all__ = ["Driver"]


class Driver(Sink):
    """Sends ``config``'s load to ``host:port`` and records it into ``recorder`` (optional)."""

    def __init__(
        self,
        host: str,
        port: int,
        config: ClientConfig,
        *,
        recorder: Recorder | None = None,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        super().__init__(host, port, config, recorder=recorder, clock=clock)
        self._ids = recorder.new_request_id if recorder is not None else itertools.count(1).__next__
        self._paths = config.paths or ("/",)
        self._issued = 0
        self._in_flight = 0
        self._deadline: int | None = None
        self._idle: list[Slot] = []
        self._backlog = 0
        self._pacing = False
        self._slots: list[Slot] = []
        self._done: asyncio.Future[None] | None = None
        self.started = 0
        """Client clock reading when the load began (request i of ``--rate R`` is due at
        ``started + i / R``)."""

    # -- running ----------------------------------------------------------------------------

    async def run(self) -> ClientStats:
        """Send the whole load and wait for every answer; returns what the client measured."""
        from tracer.client.slots import make_slots

        loop = self.bind()
        self._done = loop.create_future()
        config = self.config
        self._slots = make_slots(self, config, self.host, self.port)
        start = self.started = self.clock()
        if config.duration is not None:
            self._deadline = start + int(config.duration * 1e9)
        sweeper = loop.create_task(self._sweep())
        pacer = None
        if config.rate:
            self._pacing = True
            self._idle = list(self._slots)
            pacer = loop.create_task(self._pace(start, config.rate))
        else:
            for slot in self._slots:
                self._release(slot)
        self._check_done()
        try:
            await self._done
        finally:
            sweeper.cancel()
            if pacer is not None:
                pacer.cancel()
            for slot in self._slots:
                slot.close()
            await sleep(0)  # let transports run their close callbacks
        self.stats.wall_ns = max(0, self._last - start)
        return self.stats

    def _can_issue(self) -> bool:
        requests = self.config.requests
        if requests is not None and self._issued + self._backlog >= requests:
            return False
        return self._deadline is None or self.clock() < self._deadline

    def _issue(self, slot: Slot) -> None:
        self._issued += 1
        self._in_flight += 1
        slot.submit(self._ids(), self._paths[(self._issued - 1) % len(self._paths)])

    def _release(self, slot: Slot) -> None:
        if self._backlog:
            self._backlog -= 1
            self._issue(slot)
        elif self.config.rate:
            self._idle.append(slot)  # open loop: the pacer decides when the next one goes
        elif self._can_issue():
            self._issue(slot)

    def _check_done(self) -> None:
        if self._in_flight or self._backlog or self._pacing:
            return
        if self._done is None or self._done.done():
            return
        if not self.config.rate and self._can_issue():
            return
        self._done.set_result(None)

    async def _pace(self, start: int, rate: float) -> None:
        """Open loop: request number i is due at start + i / rate, whether a slot is free or not.
        Fixed intervals, not ``trace run``'s Poisson arrivals (see the module's docstring)."""
        interval = 1e9 / rate
        due = 0
        while self._can_issue():
            now = self.clock()
            due_now = math.floor((now - start) / interval) + 1
            while due < due_now and self._can_issue():
                due += 1
                if self._idle:
                    self._issue(self._idle.pop())
                else:
                    self._backlog += 1  # waits in the client for a free slot
            await sleep(max(0.0, (start + due * interval - self.clock()) / 1e9))
        self._pacing = False
        self._check_done()

    async def _sweep(self) -> None:
        timeout_ns = int(self.config.timeout * 1e9)
        period = min(1.0, self.config.timeout / 4)
        while True:
            await sleep(period)
            now = self.clock()
            for slot in self._slots:
                if slot.busy_since and now - slot.busy_since > timeout_ns:
                    slot.abort(timeout_error(self.config.timeout))

    # -- after each exchange (hooks of Sink) ---------------------------------------------------

    def after(self, slot: Slot, ok: bool) -> None:
        """Closed loop: the slot takes the next request; open loop: it waits for the pacer."""
        self._in_flight -= 1
        if ok:
            self._release(slot)
            self._check_done()
        else:
            # Let a failing server breathe before the slot tries again (no busy reconnect loop).
            assert self._loop is not None
            self._loop.call_soon(self._retry, slot)

    def _retry(self, slot: Slot) -> None:
        self._release(slot)
        self._check_done()

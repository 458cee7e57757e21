"""Simulated requests and how they arrive: a closed loop of clients or an open Poisson stream.

Each request's work (its route and every phase duration) is drawn when it is created, from a
random stream of its own, separate from the arrival stream: request number k does the same
work whatever the server model, so a sweep compares like with like.
Imports only ``sim.engine``, ``sim.dist`` and ``sim.workload``.
"""

from __future__ import annotations

import itertools
import math
import random
from bisect import bisect_right
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim.dist import Dist
from sim.engine import Engine
from sim.workload import Route, Workload

if TYPE_CHECKING:
    from sim.workers import Worker

__all__ = [
    "Request",
    "RequestSource",
    "ClosedLoop",
    "OpenLoop",
    "Arrivals",
    "SENT_ALL",
    "WAIT_GAP",
    "MAX_CLIENTS",
]

SENT_ALL = -1
"""``Request.next_chunk``: every chunk is sent; the request has moved on to its next phase."""
WAIT_GAP = -2
"""``Request.next_chunk``: wait ``gap`` before the next chunk, then ask again."""
MAX_CLIENTS = 1_048_576
"""The most closed-loop clients (``-c``): Linux's default ``fs.nr_open``, the most file
descriptors one process may hold, so the most connections one load-generating process (as
``trace run``'s clients are) keeps open. Every client sends at t=0, so ``-c N -z D`` has N
requests in memory at once: at this bound about half a GB and several seconds."""


class Request:
    """One simulated request: its work and where it is in its life (times in ns)."""

    __slots__ = (
        "id",
        "route",
        "work",
        "client",
        "queued",
        "started",
        "ended",
        "start_order",
        "end_order",
        "i",
        "k",
        "cpu",
        "bytes_out",
        "worker",
        "task",
        "responded",
        "waiting",
        "step_start",
        "step_cpu",
        "hold_ns",
        "hold_loc",
    )
    # Set by the loop model before it reads them (left unset: most requests never need them).
    step_start: int
    step_cpu: int
    hold_ns: int
    hold_loc: str

    def __init__(
        self, req_id: int, route: Route, work: tuple[tuple[int, ...], ...], client: int, t: int
    ) -> None:
        self.id = req_id
        self.route = route
        self.work = work
        """The phases with their drawn durations: ``(code, ns, ...)``."""
        self.client = client
        self.queued = t
        self.started = -1
        self.ended = -1
        self.start_order = -1
        self.end_order = -1
        """When it started and ended among everything that happened (``Engine.order``)."""
        self.i = 0
        """Index of the phase in progress."""
        self.k = 0
        """Progress inside a phase (chunks sent, offload part done)."""
        self.cpu = 0
        self.bytes_out = 0
        self.worker: Worker | None = None
        self.task: str | None = None
        self.responded = False
        self.waiting = False
        # step_start, step_cpu, hold_ns, hold_loc: set by the loop model before use.

    def next_chunk(self, chunks: int, gap: int) -> int:
        """Pace a ``SEND`` phase of ``chunks`` chunks, ``gap`` apart, one call per chunk.

        Returns ``SENT_ALL``, ``WAIT_GAP``, or the ns waited before this chunk: send it now.
        """
        if self.k >= chunks:
            self.k = 0
            self.i += 1
            return SENT_ALL
        if self.k > 0 and gap and not self.waiting:
            self.waiting = True
            return WAIT_GAP
        waited = gap if self.waiting else 0
        self.waiting = False
        self.k += 1
        return waited


class RequestSource:
    """Makes requests: picks a route by weight and draws its phases."""

    def __init__(self, workload: Workload, rng: random.Random) -> None:
        self.routes = workload.routes
        self.rng = rng
        total = 0.0
        self._cumulative: list[float] = []
        for route in self.routes:
            total += route.weight
            self._cumulative.append(total)
        self._total = total
        self._samplers = [route.sampler() for route in self.routes]
        self._ids = itertools.count(1)
        self.made = 0
        """How many requests were made."""

    def new(self, t: int, client: int) -> Request:
        """A new request arriving at ``t`` from ``client``."""
        routes = self.routes
        if len(routes) == 1:
            index = 0
        else:
            index = bisect_right(self._cumulative, self.rng.random() * self._total)
            index = min(index, len(routes) - 1)
        self.made += 1
        return Request(next(self._ids), routes[index], self._samplers[index](self.rng), client, t)


class Arrivals:
    """Common part of the arrival processes: when to stop making requests."""

    def __init__(
        self,
        engine: Engine,
        source: RequestSource,
        submit: Callable[[Request], Any],
        *,
        requests: int | None,
        duration_ns: int | None,
        rng: random.Random,
    ) -> None:
        self.engine = engine
        self.source = source
        self.submit = submit
        self.requests = requests
        self.duration_ns = duration_ns
        self.rng = rng

    def _stopped(self) -> bool:
        if self.requests is not None and self.source.made >= self.requests:
            return True
        return self.duration_ns is not None and self.engine.now >= self.duration_ns

    def start(self) -> None:
        """Schedule the first arrivals."""
        raise NotImplementedError

    def done(self, req: Request) -> None:
        """A request finished (closed loop: its client sends the next one)."""


class ClosedLoop(Arrivals):
    """``-c N``: N clients, each sending its next request when the last one is answered."""

    def __init__(
        self,
        *args: Any,
        clients: int,
        think: Dist | None = None,
        hang_up: Callable[[int], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.clients = clients
        self.think = think
        self.hang_up = hang_up
        """Called with a client that sends no more: it closes its kept-alive connection."""

    def start(self) -> None:
        """Every client sends at t=0.

        With ``-n N`` only the first N clients ever send (their first requests reach N before
        the others' turn at t=0), so only those are scheduled: ``-c 1000000 -n 10`` costs what
        ten clients do, with the same events.
        """
        clients = self.clients if self.requests is None else min(self.clients, self.requests)
        for client in range(clients):
            self.engine.at(0, self._send, client)

    def _send(self, client: int) -> None:
        if not self._stopped():
            self.submit(self.source.new(self.engine.now, client))
        elif self.hang_up is not None:
            self.hang_up(client)

    def done(self, req: Request) -> None:
        """The client thinks, then sends again (scheduled, so no call chain grows)."""
        pause = 0 if self.think is None else self.think.sample(self.rng)
        self.engine.after(pause, self._send, req.client)


class OpenLoop(Arrivals):
    """``--rate R``: Poisson arrivals at R per second, whatever the server does."""

    def __init__(self, *args: Any, rate: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mean_gap_ns = 1e9 / rate

    def start(self) -> None:
        """The first arrival comes one random gap after t=0."""
        self.engine.after(self._gap(), self._arrive, None)

    def _gap(self) -> int:
        return round(-math.log(1.0 - self.rng.random()) * self.mean_gap_ns)

    def _arrive(self, _: object) -> None:
        source, engine = self.source, self.engine
        if self._stopped():
            return
        self.submit(source.new(engine.now, source.made))
        gap = round(-math.log(1.0 - self.rng.random()) * self.mean_gap_ns)  # _gap(), inlined
        engine.after(gap, self._arrive, None)

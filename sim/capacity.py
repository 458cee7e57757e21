"""What a server model can keep up with: the utilisation law applied to its workload.

Each request needs some time of each scheduling resource a model has: a worker thread (WSGI
models: the whole handler), the loop thread (``loop``: ``cpu`` and ``blocking-io``), the thread
pool (``offload`` phases and ``sync`` routes), a process's GIL (every ``cpu`` part) and, with
``--cpus``, the machine's cores. A resource of ``c`` units that a request holds ``S`` on average
serves at most ``c / S`` requests a second, so the model's capacity is the least of these, and an
open loop at ``rate`` loads its busiest resource to ``rho = rate * S / c``. At ``rho >= 1`` the
server cannot keep up: its queue grows for as long as arrivals come, and every latency measured
then grows with ``-n`` or ``-z`` rather than settling (``saturated``).

The figures come from the workload's means, not from a run, so they are exact for the loop, the
pool, the GIL and the cores; a WSGI thread also waits for the GIL while it holds its request, so
its figure is a lower bound (a run can saturate its threads a little below ``rho = 1`` when CPU
phases contend). Load is taken as spread evenly over processes, as the models spread it.
Imports only ``sim`` modules.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

from sim.config import SimConfig
from sim.result import SimResult
from sim.workload import BLOCKING_IO, CPU, OFFLOAD, SEND, WS, Route

__all__ = ["Capacity", "capacity", "queue_grew", "run_queue_grew"]

WSGI_MODELS = ("threads", "processes", "wsgi-on-loop")


@dataclass(frozen=True, slots=True)
class Capacity:
    """The most requests a second a model serves, and which resource sets it."""

    resource: str
    """The busiest resource: ``threads``, ``thread`` (``wsgi-on-loop``'s one), ``loop``,
    ``pool``, ``GIL`` or ``cores``."""
    units: int
    """How many of it there are, over all processes (threads, loops, pool tokens, GILs,
    cores)."""
    rps: float | None
    """Requests a second it keeps up with; None when requests need none of it (zero work)."""

    def load(self, rate: float) -> float | None:
        """``rho``: the share of the resource an open loop at ``rate`` needs (None: no limit)."""
        return None if self.rps is None else rate / self.rps

    def saturated(self, rate: float) -> bool:
        """Whether an open loop at ``rate`` is more than it can keep up with."""
        rho = self.load(rate)
        return rho is not None and rho >= 1.0

    def as_dict(self, rate: float | None, *, queue_grew: bool = False) -> dict[str, object]:
        """For ``--json`` (a single run's and each sweep row's): ``{"resource", "units",
        "capacity_rps"}`` and, with a rate, ``utilisation`` (rho) and ``saturated`` (rho at 1
        or more, or ``queue_grew``: the run's own queue said so, ``run_queue_grew``)."""
        out: dict[str, object] = {
            "resource": self.resource,
            "units": self.units,
            "capacity_rps": None if self.rps is None else round(self.rps, 1),
        }
        if rate is not None:
            rho = self.load(rate)
            out["utilisation"] = None if rho is None else round(rho, 3)
            out["saturated"] = queue_grew or self.saturated(rate)
        return out


def capacity(config: SimConfig) -> Capacity:
    """The resource of ``config``'s model that runs out first, and at how many requests a
    second (a checked config: ``SimConfig.check`` has filled in the model's defaults)."""
    processes = config.workers if config.model in ("processes", "loop") else 1
    demand = _demand(config)  # seconds of each resource per request, on average
    units: dict[str, int] = {"GIL": processes}
    if config.model == "loop":
        units["loop"] = processes
        units["pool"] = processes * config.pool_size
    elif config.model == "wsgi-on-loop":
        units["thread"] = 1
    else:
        units["threads"] = processes * config.threads_per_process
    if config.cpus is not None:
        units["cores"] = config.cpus
    best: Capacity | None = None
    for name, count in units.items():
        seconds = demand.get("thread" if name == "threads" else name, 0.0)
        rps = count / seconds if seconds > 0 else None
        if best is None or (rps is not None and (best.rps is None or rps < best.rps)):
            best = Capacity(name, count, rps)
    assert best is not None  # units always has the GIL
    return best


def _demand(config: SimConfig) -> dict[str, float]:
    """Mean seconds of each resource a request holds, over the routes' weights."""
    routes = config.workload.routes
    total = sum(route.weight for route in routes)
    demand: dict[str, float] = {}
    for route in routes:
        share = route.weight / total
        for name, ns in _route_demand(route, config.model).items():
            demand[name] = demand.get(name, 0.0) + share * ns / 1e9
    demand["cores"] = demand.get("GIL", 0.0)  # every CPU part needs a core as well
    return demand


def _route_demand(route: Route, model: str) -> dict[str, float]:
    """Mean ns of each resource one request of ``route`` holds under ``model``."""
    cpu = wait = loop = pool = offloaded = 0.0
    for phase in route.phases:
        first = 0.0 if phase.dist is None else phase.dist.mean_ns
        if phase.code in (SEND, WS):
            wait += first * phase.chunks  # awaited on a loop; holds a WSGI thread
        elif phase.code == OFFLOAD:
            second = 0.0 if phase.io is None else phase.io.mean_ns
            cpu += first
            wait += first + second
            pool += first + second
            offloaded += first + second
        elif phase.code == CPU:
            cpu += first
            wait += first
            loop += first
            pool += first
        else:  # io, blocking-io
            wait += first
            pool += first
            if phase.code == BLOCKING_IO:
                loop += first
    if model in WSGI_MODELS:
        return {"GIL": cpu, "thread": wait}
    if route.sync:  # a def endpoint: its whole handler (sends aside) runs in the pool
        return {"GIL": cpu, "pool": pool}
    return {"GIL": cpu, "loop": loop, "pool": offloaded}


def run_queue_grew(result: SimResult) -> bool:
    """``queue_grew`` of an open-loop run's requests (a closed loop's queue is bounded by its
    clients: never)."""
    stats = result.stats
    if result.config.rate is None or stats is None:
        return False
    return queue_grew(stats.queued, stats.started)


def queue_grew(queued: list[int], started: list[int]) -> bool:
    """Whether the run's wait queue grew over the second half of its arrivals by more than
    chance moves it (three standard deviations of a Poisson count of those arrivals): what
    an open loop past its server's capacity does even where ``capacity`` gives less than 1
    (WSGI threads that wait for the GIL hold their requests longer than their work)."""
    if len(queued) < 2:
        return False
    arrivals = sorted(queued)
    starts = sorted(started)
    middle, last = arrivals[len(arrivals) // 2], arrivals[-1]

    def waiting(t: int) -> int:  # arrived by t and not started by t
        return bisect_right(arrivals, t) - bisect_right(starts, t)

    came = bisect_right(arrivals, last) - bisect_right(arrivals, middle)
    return waiting(last) - waiting(middle) > 3 * math.sqrt(came)

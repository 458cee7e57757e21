"""``SimConfig``: everything one simulation needs, frozen, checked before it runs.

Imports only ``tracer.errors`` and ``sim`` modules.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sim.arrivals import MAX_CLIENTS
from sim.cores import MAX_CPUS
from sim.dist import MAX_DURATION_NS, Dist, Fixed
from sim.gil import SWITCH_INTERVAL_NS
from sim.workers import ANYIO_TOKENS, MAX_THREADS
from sim.workload import SEND, WS, Workload, inline_workload, refuse_websocket
from tracer.errors import UsageError

__all__ = [
    "SimConfig",
    "DEFAULT_IO_NS",
    "DEFAULT_THREADS",
    "WAITRESS_CONNECTION_LIMIT",
    "MODEL_NAMES",
    "MAX_REQUESTS",
    "MAX_RECORDED_REQUESTS",
    "TooManyRequests",
]

WAITRESS_CONNECTION_LIMIT = 100
"""waitress's default ``connection_limit`` (``adjustments.py``)."""
MIN_CONNECTION_LIMIT = 3
"""The least ``connection_limit`` that serves a client: waitress counts its listening socket and
its wake-up pipe among its connections."""

DEFAULT_IO_NS = 100_000_000
"""``--io 100ms`` when no work is given at all."""

MODEL_NAMES = ("threads", "processes", "loop", "wsgi-on-loop")
"""The models ``trace sim --model`` accepts (the keys of ``sim.models.MODELS``)."""

DEFAULT_THREADS = {"threads": 4, "processes": 1}
"""Threads per process when none are given, by model: ``trace run``'s (``tracer.servers.threads``
and ``tracer.servers.processes``, not imported here): 4 as waitress, 1 as gunicorn's sync
worker. The same scenario run and simulated then starts from the same server."""

MAX_REQUESTS = 10_000_000
"""The most requests one simulation makes (``-n``, or what ``-z`` comes to). Every finished
request keeps its arrival, start and end times until the summary, which copies them again:
about 350 bytes each (measured: tracemalloc peak 290-325 B and ru_maxrss 340 B per request,
over runs of 100,000 and 1,000,000 requests on every model), so about 3.5 GB at this bound.
Past it, a typo'd ``-n 100000000000`` would run until the machine ran out of memory."""

MAX_RECORDED_REQUESTS = 1_000_000
"""The most requests one simulation makes into a recording: its file takes about 1.3 KB per
request (1.3 GB at this bound), and the report reads it back. Memory is not what bounds it:
the simulation drains the recorder's queue itself as it goes (``sim.emit``), so a recorded
run takes about 400 bytes per request (measured: ru_maxrss 405 MB for 1,000,000 recorded
requests on the threads model, 2.5 GB before it drained)."""

POISSON_MARGIN = 6
"""Standard deviations of a ``--rate`` run's Poisson count added to its mean before it is
compared with the bound: a run refused at once rather than one in 10^9 runs failing late."""

MIN_TURN_CPU_NS = 2
"""The least CPU a thread sharing cores must get per switch interval (``switch_interval_ns``
× ``cpus`` / ``workers``). Under 1 ns a turn takes nothing off its CPU and the run never ends;
1 ns is whole only in exact arithmetic (``Cores`` keeps CPU in floats, and pieces of a third of
a ns may add up to just under 1), 2 leaves room for that rounding. CPython's default interval
(5 ms) meets it for every number of processes ``--workers`` takes."""

_MEMORY_NOTE = {
    False: (MAX_REQUESTS, "each simulated request keeps about 350 bytes, 3.5 GB at this bound"),
    True: (
        MAX_RECORDED_REQUESTS,
        "each recorded request writes about 1.3 KB of file, 1.3 GB at this "
        f"bound; --no-record simulates up to {MAX_REQUESTS:,}",
    ),
}
"""Recorded or not -> (the most requests, why: the memory or the file they take)."""

MAX_PARTS_RUN = {False: 100_000_000, True: 1_000_000}
"""Recorded or not -> the most body chunks and WebSocket messages one simulation makes. Each is
an engine step of about 2 µs (100,000,000 take about three minutes) and, recorded, one to three
events: about 145 bytes of file for a WSGI model's chunk (``wsgi.body``), 400 for the loop's
(``asgi.send`` and the step before it), 600 for a message and its reply; the process's peak
memory grows about 1 KB a chunk on the loop (measured: 1,000,000 chunks, 0.4 GB of file and
1.0 GB)."""


class TooManyRequests(UsageError):
    """A ``-z`` run made more requests than ``SimConfig.check`` allows (exit code 2): a closed
    loop's count is known only as it runs."""


def _default_workload() -> Workload:
    return inline_workload(io=Fixed(DEFAULT_IO_NS))


@dataclass(frozen=True, slots=True)
class SimConfig:
    """A simulation: server model, load and workload. Same config and seed, same events."""

    model: str = "threads"
    """One of ``MODEL_NAMES``."""
    threads: int | None = None
    """Threads per process (``threads``, ``processes``), at most ``MAX_THREADS``; None: the
    model's default (``DEFAULT_THREADS``; read ``threads_per_process``). Made only when a
    request needs one, so a run has at most as many as it had requests in flight."""
    workers: int = 1
    """Processes (``processes``: gunicorn's workers, workers × threads at most
    ``MAX_THREADS``; ``loop``: uvicorn's ``--workers``, each its own loop and thread pool,
    workers × pool_size at most ``MAX_THREADS``). Made, like threads, only when a request goes
    to one."""
    pool_size: int = ANYIO_TOKENS
    """Thread pool tokens behind each loop (``loop``), at most ``MAX_THREADS``."""
    connection_limit: int | None = None
    """waitress's ``connection_limit`` (``threads``): past it, a new client waits unaccepted
    until a connected one hangs up. None (the default): no limit, as the thread-per-request
    server the c10k demo stands for; waitress's own is ``WAITRESS_CONNECTION_LIMIT`` (100). At
    least 3 (waitress counts its own two sockets among its connections)."""
    cpus: int | None = None
    """Cores of the simulated machine, shared by the threads of every process (``--cpus``).

    None: unlimited, so each process's GIL is the only limit (and the results do not depend on
    the machine the simulation runs on). Only ``processes`` and ``loop`` with more workers than
    cores are slowed: every other model is one process, whose GIL runs one thread at a time
    anyway.
    """
    concurrency: int = 10
    """Closed loop: clients, each with one request at a time (ignored when ``rate`` is set),
    at most ``MAX_CLIENTS``."""
    rate: float | None = None
    """Open loop: Poisson arrivals per second."""
    requests: int | None = 1000
    """Stop after this many requests (``-n``)."""
    duration_ns: int | None = None
    """Stop sending after this much simulated time (``-z``)."""
    think: Dist | None = None
    """Closed loop: pause of a client between a response and its next request."""
    workload: Workload = field(default_factory=_default_workload)
    """What each request does."""
    seed: int = 0
    """Seed of the random streams: same seed, same events."""
    block_threshold_ns: int = 10_000_000
    """A loop step longer than this is a ``loop.blocked`` (10 ms, as the shim's default); above
    0, as ``--block-threshold-ms`` and the shim's ``block_threshold_ms`` must be."""
    switch_interval_ns: int = SWITCH_INTERVAL_NS
    """The GIL switch interval (CPython: 5 ms); above 0, and with processes sharing cores
    (``processes`` with more ``workers`` than ``cpus``, two threads or more each, or ``loop``
    with more ``workers`` than ``cpus``) long enough to give each of them ``MIN_TURN_CPU_NS``
    of CPU a turn."""

    @property
    def threads_per_process(self) -> int:
        """``threads``, or the model's default when it was not given."""
        if self.threads is not None:
            return self.threads
        return DEFAULT_THREADS.get(self.model, 1)

    def check(self, *, recorded: bool = False, names: Mapping[str, str] | None = None) -> SimConfig:
        """Raise ``UsageError`` naming the first bad field; return self when all is well.

        ``recorded``: the run is to be recorded, so it may make at most
        ``MAX_RECORDED_REQUESTS`` (not ``MAX_REQUESTS``). ``names``: field -> how the messages
        name it, for a value that came from elsewhere than its option (a ``--sweep`` names
        ``pool_size`` as typed, ``pool-size``); a field not in it is named by its option.
        """
        named = names or {}

        def name_of(field_name: str, option: str | None = None) -> str:
            return named.get(field_name) or option or "--" + field_name.replace("_", "-")

        if self.model not in MODEL_NAMES:
            raise UsageError(
                f'Unknown model "{self.model}"; choose one of {", ".join(MODEL_NAMES)}.'
            )
        if self.model != "loop":  # before a recording is opened: no header-only file left
            refuse_websocket(self.workload, self.model)
        for name, most, why in (
            ("threads", MAX_THREADS, "Linux's PID_MAX_LIMIT: no machine runs more threads"),
            ("workers", MAX_THREADS, "Linux's PID_MAX_LIMIT: no machine runs more processes"),
            ("pool_size", MAX_THREADS, "each token in use is a thread"),
            ("concurrency", MAX_CLIENTS, "the most connections one process may hold open"),
        ):
            value = self.threads_per_process if name == "threads" else getattr(self, name)
            flag = name_of(name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"{flag} must be a whole number of 1 or more, not {value!r}.")
            if value > most:
                raise UsageError(
                    f"{flag} must be a whole number from 1 to {most:,}, not {value:,} ({why})."
                )
        limit = self.connection_limit
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < MIN_CONNECTION_LIMIT
        ):
            raise UsageError(
                f"{name_of('connection_limit')} must be a whole number of "
                f"{MIN_CONNECTION_LIMIT} or more (waitress counts its own two sockets among its "
                f"connections), not {limit!r}."
            )
        threads = self.threads_per_process
        if self.model == "processes" and self.workers * threads > MAX_THREADS:
            raise UsageError(
                f"{name_of('workers')} {self.workers:,} × {name_of('threads')} "
                f"{threads:,} is {self.workers * threads:,} threads, more than "
                f"{MAX_THREADS:,} (no machine runs more); give fewer workers or threads."
            )
        if self.model == "loop" and self.workers * self.pool_size > MAX_THREADS:
            raise UsageError(
                f"{name_of('workers')} {self.workers:,} × {name_of('pool_size')} "
                f"{self.pool_size:,} is {self.workers * self.pool_size:,} pool threads, more "
                f"than {MAX_THREADS:,} (no machine runs more); give fewer workers or a smaller "
                "pool."
            )
        if self.cpus is not None and (
            isinstance(self.cpus, bool)
            or not isinstance(self.cpus, int)
            or not 1 <= self.cpus <= MAX_CPUS
        ):
            # The option can be left out; a swept value cannot.
            unlimited = "" if "cpus" in named else " (leave it out for unlimited cores)"
            raise UsageError(
                f"{name_of('cpus')} must be a whole number from 1 to {MAX_CPUS}, "
                f"not {self.cpus!r}{unlimited}."
            )
        if self.rate is not None and not (self.rate > 0 and self.rate != float("inf")):
            raise UsageError(
                f"{name_of('rate')} must be a number of requests per second above 0, "
                f"not {self.rate!r}."
            )
        if self.rate is not None and 1e9 / self.rate > MAX_DURATION_NS:
            raise UsageError(
                f"{name_of('rate')} {self.rate!r} is too low: its mean gap between arrivals "
                "would be over 292 years, the longest duration."
            )
        if self.requests is None and self.duration_ns is None:
            raise UsageError("Give -n (requests) or -z (simulated duration), so the run ends.")
        if self.requests is not None and (isinstance(self.requests, bool) or self.requests < 1):
            raise UsageError(f"-n must be 1 or more, not {self.requests!r}.")
        if self.duration_ns is not None and self.duration_ns <= 0:
            raise UsageError("-z must be a duration above 0, like 10s.")
        self._check_request_count(recorded, name_of)
        # One rule with trace sim/run/replay's --block-threshold-ms and the shim's setting.
        if self.block_threshold_ns <= 0:
            raise UsageError(
                f"The block threshold (--block-threshold-ms) must be above 0, "
                f"not {self.block_threshold_ns / 1e6:g} ms; try 10."
            )
        if self.switch_interval_ns <= 0:
            raise UsageError(
                f"The GIL switch interval must be above 0 ns, not {self.switch_interval_ns!r}."
            )
        self._check_shared_turn()
        if not self.workload.routes:
            raise UsageError(f'Workload "{self.workload.name}" has no routes.')
        return self

    def _check_shared_turn(self) -> None:
        """Refuse a switch interval too short for threads sharing cores to progress: when
        more processes compute than there are cores, a GIL holder gets cpus / workers of one
        at worst, and a turn of under 1 ns of CPU takes nothing off (``Cores`` rounds a
        pre-empted holder's CPU up to whole ns), so its threads would take turns for ever."""
        cpus, workers = self.cpus, self.workers
        if (
            self.model not in ("processes", "loop")
            or cpus is None
            or workers <= cpus
            # One thread a process (gunicorn's sync worker): its GIL never switches. A loop
            # always has its pool's threads beside it.
            or (self.model == "processes" and self.threads_per_process < 2)
        ):
            return
        interval = self.switch_interval_ns
        if interval * cpus < MIN_TURN_CPU_NS * workers:
            least = -(-MIN_TURN_CPU_NS * workers // cpus)
            raise UsageError(
                f"The GIL switch interval of {interval:,} ns is too short for "
                f"{workers:,} processes on {cpus:,} core{'s' if cpus > 1 else ''}: a thread "
                f"sharing {'them' if cpus > 1 else 'it'} would get "
                f"{interval * cpus / workers:.3g} ns of CPU a turn, and needs at least "
                f"{MIN_TURN_CPU_NS} to be sure to progress; give {least:,} ns or more."
            )

    def request_limit(self, *, recorded: bool = False) -> int:
        """The most requests this run may make: ``MAX_REQUESTS``, or ``MAX_RECORDED_REQUESTS``
        when ``recorded``, fewer when its requests have many body chunks or WebSocket messages
        (``MAX_PARTS_RUN``)."""
        return self._limit(recorded)[0]

    def _limit(self, recorded: bool) -> tuple[int, str]:
        """The most requests this run may make, and why (the bound that binds)."""
        most, why = _MEMORY_NOTE[recorded]
        parts = self.workload.parts_per_request()
        budget = MAX_PARTS_RUN[recorded]
        if parts and budget / parts < most:
            most = int(budget / parts)
            mean = f"{parts:,.1f}".removesuffix(".0")
            why = (
                f'a request of workload "{self.workload.name}" has {mean} body chunks or '
                f"WebSocket messages on average, and one simulation makes at most {budget:,} "
                + ("recorded, each one to three events" if recorded else "of them")
            )
        return most, why

    def too_many_requests(self, *, now_ns: int, recorded: bool = False) -> TooManyRequests:
        """The error of a ``-z`` run that made more requests than ``request_limit`` allows
        by ``now_ns`` of simulated time."""
        most, why = self._limit(recorded)
        load = f"--rate {self.rate:g}" if self.rate is not None else f"-c {self.concurrency:,}"
        duration = "" if self.duration_ns is None else f" -z {self.duration_ns / 1e9:g}s"
        if now_ns == 0:  # -c is at most `most` (checked): some client sent again at t=0
            fix = (
                "its requests take no simulated time, so the clock never reaches -z; "
                "give the work a duration, or -n"
            )
        else:
            fix = "give a shorter -z, a lower load or -n"
        return TooManyRequests(
            f"{load}{duration} made more than {most:,} requests by {now_ns / 1e9:g} s of "
            f"simulated time, the most one simulation makes ({why}); {fix}."
        )

    def _check_request_count(self, recorded: bool, name_of: Callable[..., str]) -> None:
        """Refuse a run that would make more requests than fit in memory (see
        ``MAX_REQUESTS``): ``-n`` above the bound, or a ``-z`` that is sure to pass it.
        ``name_of``: how a message names a field (``check``'s ``names``)."""
        most, why = self._limit(recorded)
        if most < 1:
            raise UsageError(f"{why}: a single request has more; give fewer chunks or messages.")
        if self.requests is not None:
            if self.requests > most:
                raise UsageError(
                    f"-n must be at most {most:,}, not {self.requests:,} ({why}); "
                    "give fewer requests."
                )
            return
        if self.duration_ns is None:  # refused above: neither -n nor -z
            return
        if self.rate is not None:
            expected = self.rate * self.duration_ns / 1e9
            # The count is Poisson: one whose mean is near the bound passes it about half the
            # time, and only at the end of the run. Past 6 standard deviations, 1 in 10^9.
            reach = expected + POISSON_MARGIN * math.sqrt(expected)
            if reach > most:
                rate = name_of("rate")
                more = (
                    f"more than {most:,}"
                    if expected > most
                    else f"and random arrivals may make up to {reach:,.0f}, more than {most:,}"
                )
                raise UsageError(
                    f"{rate} {self.rate:g} for -z {self.duration_ns / 1e9:g}s comes to about "
                    f"{expected:,.0f} requests, {more} ({why}); give a shorter -z "
                    f"or a lower {rate}, or -n."
                )
        elif self.concurrency > most:  # every client sends at t=0
            clients = name_of("concurrency", "-c")
            raise UsageError(
                f"{clients} {self.concurrency:,} with -z sends {self.concurrency:,} requests at "
                f"once, more than {most:,} ({why}); give fewer clients."
            )
        elif self._takes_no_time():
            raise UsageError(
                f"-z {self.duration_ns / 1e9:g}s would never end: every request of workload "
                f'"{self.workload.name}" takes no simulated time (all its durations are 0, and '
                "any --think too), so the clock never reaches -z; give the work a duration, "
                "or -n."
            )
        else:
            self._check_closed_loop_count(most, why)

    def _check_closed_loop_count(self, most: int, why: str) -> None:
        """Refuse a closed loop sure to pass ``most`` requests by -z: even if its server did
        one request at a time (the slowest a server that never idles with work waiting can
        be), N clients whose requests take D on average and think Z make at least
        N / (N·D + Z) a second. Counted with half of it, for the randomness of the durations.
        A limited waitress with thinking clients can idle with work waiting (a thinking client
        keeps its connection while others wait to connect), so it gets no such bound; every
        run is still stopped as it goes (``sim.simulation``)."""
        assert self.duration_ns is not None
        think = 0 if self.think is None else self.think.mean_ns
        if think and self.connection_limit is not None:
            return
        clients = self.concurrency
        cycle_ns = clients * self._mean_request_ns() + think
        if cycle_ns <= 0:
            return  # no time at all: refused above
        at_least = self.duration_ns / cycle_ns * clients / 2
        if at_least > most:
            raise UsageError(
                f"-c {clients:,} -z {self.duration_ns / 1e9:g}s would make over "
                f"{at_least:,.0f} requests (even if the server did one request at a time), "
                f"more than {most:,} ({why}); give a shorter -z, a lower load or -n."
            )

    def _mean_request_ns(self) -> float:
        """The mean of all a request's durations added up, over the routes' weights (SEND and
        WS: each chunk's or message's wait counted)."""
        total = sum(route.weight for route in self.workload.routes)
        mean = 0.0
        for route in self.workload.routes:
            ns = 0.0
            for phase in route.phases:
                repeat = phase.chunks if phase.code in (SEND, WS) else 1
                for dist in (phase.dist, phase.io):
                    if dist is not None:
                        ns += dist.mean_ns * repeat
            mean += route.weight / total * ns
        return mean

    def projection_error(
        self, *, made: int, now_ns: int, projected: float, recorded: bool = False
    ) -> TooManyRequests:
        """The error of a closed loop that, ``made`` requests into its -z at ``now_ns``, is
        on course to make ``projected`` requests, past ``request_limit``."""
        most, why = self._limit(recorded)
        duration = "" if self.duration_ns is None else f" -z {self.duration_ns / 1e9:g}s"
        return TooManyRequests(
            f"-c {self.concurrency:,}{duration} is on course to make about {projected:,.0f} "
            f"requests ({made:,} by {now_ns / 1e9:g} s of simulated time), more than {most:,}, "
            f"the most one simulation makes ({why}); give a shorter -z, a lower load or -n."
        )

    def _takes_no_time(self) -> bool:
        """Every request and pause lasts 0 ns: a closed loop's clock never moves."""
        if self.think is not None and self.think.mean_ns > 0:
            return False
        return all(
            dist is None or dist.mean_ns == 0  # durations are never negative: all draws are 0
            for route in self.workload.routes
            for phase in route.phases
            for dist in (phase.dist, phase.io)
        )

    def with_value(self, name: str, value: Any) -> SimConfig:
        """A copy with one field changed (for sweeps)."""
        return replace(self, **{name: value})

    def load_header(self) -> dict[str, Any]:
        """The ``load`` field of the recording header."""
        load: dict[str, Any] = {}
        if self.rate is not None:
            load["rate"] = self.rate
        else:
            load["concurrency"] = self.concurrency
        if self.requests is not None:
            load["requests"] = self.requests
        if self.duration_ns is not None:
            load["duration_s"] = self.duration_ns / 1e9
        load["seed"] = self.seed
        return load

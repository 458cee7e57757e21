"""``SimConfig``: everything one simulation needs, frozen, checked before it runs.

Imports only ``tracer.errors`` and ``sim`` modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sim.arrivals import MAX_CLIENTS
from sim.cores import MAX_CPUS
from sim.dist import MAX_DURATION_NS, Dist, Fixed
from sim.gil import SWITCH_INTERVAL_NS
from sim.workers import ANYIO_TOKENS, MAX_THREADS
from sim.workload import Workload, inline_workload, refuse_websocket
from tracer.errors import UsageError

__all__ = ["SimConfig", "DEFAULT_IO_NS", "MODEL_NAMES"]

DEFAULT_IO_NS = 100_000_000
"""``--io 100ms`` when no work is given at all."""

MODEL_NAMES = ("threads", "processes", "loop", "wsgi-on-loop")
"""The models ``trace sim --model`` accepts (the keys of ``sim.models.MODELS``)."""


def _default_workload() -> Workload:
    return inline_workload(io=Fixed(DEFAULT_IO_NS))


@dataclass(frozen=True, slots=True)
class SimConfig:
    """A simulation: server model, load and workload. Same config and seed, same events."""

    model: str = "threads"
    """One of ``MODEL_NAMES``."""
    threads: int = 4
    """Threads per process (``threads``, ``processes``), at most ``MAX_THREADS``. Made only
    when a request needs one, so a run has at most as many as it had requests in flight."""
    workers: int = 1
    """Processes (``processes``); workers × threads is at most ``MAX_THREADS``. Made, like
    threads, only when a request goes to one."""
    pool_size: int = ANYIO_TOKENS
    """Thread pool tokens behind the loop (``loop``), at most ``MAX_THREADS``."""
    cpus: int | None = None
    """Cores of the simulated machine, shared by the threads of every process (``--cpus``).

    None: unlimited, so each process's GIL is the only limit (and the results do not depend on
    the machine the simulation runs on). Only ``processes`` with more workers than cores is
    slowed: every other model is one process, whose GIL runs one thread at a time anyway.
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
    """A loop step longer than this is a ``loop.blocked`` (10 ms, as the shim's default)."""
    switch_interval_ns: int = SWITCH_INTERVAL_NS
    """The GIL switch interval (CPython: 5 ms)."""

    def check(self) -> SimConfig:
        """Raise ``UsageError`` naming the first bad field; return self when all is well."""
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
            value = getattr(self, name)
            flag = name.replace("_", "-")
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"--{flag} must be a whole number of 1 or more, not {value!r}.")
            if value > most:
                raise UsageError(
                    f"--{flag} must be a whole number from 1 to {most:,}, not {value:,} ({why})."
                )
        if self.model == "processes" and self.workers * self.threads > MAX_THREADS:
            raise UsageError(
                f"--workers {self.workers:,} × --threads {self.threads:,} is "
                f"{self.workers * self.threads:,} threads, more than {MAX_THREADS:,} (no machine "
                "runs more); give fewer workers or threads."
            )
        if self.cpus is not None and (
            isinstance(self.cpus, bool)
            or not isinstance(self.cpus, int)
            or not 1 <= self.cpus <= MAX_CPUS
        ):
            raise UsageError(
                f"--cpus must be a whole number from 1 to {MAX_CPUS}, not {self.cpus!r} "
                "(leave it out for unlimited cores)."
            )
        if self.rate is not None and not (self.rate > 0 and self.rate != float("inf")):
            raise UsageError(
                f"--rate must be a number of requests per second above 0, not {self.rate!r}."
            )
        if self.rate is not None and 1e9 / self.rate > MAX_DURATION_NS:
            raise UsageError(
                f"--rate {self.rate!r} is too low: its mean gap between arrivals would be over "
                "292 years, the longest duration."
            )
        if self.requests is None and self.duration_ns is None:
            raise UsageError("Give -n (requests) or -z (simulated duration), so the run ends.")
        if self.requests is not None and (isinstance(self.requests, bool) or self.requests < 1):
            raise UsageError(f"-n must be 1 or more, not {self.requests!r}.")
        if self.duration_ns is not None and self.duration_ns <= 0:
            raise UsageError("-z must be a duration above 0, like 10s.")
        if self.block_threshold_ns < 0 or self.switch_interval_ns <= 0:
            raise UsageError("The block threshold and the switch interval must be positive.")
        if not self.workload.routes:
            raise UsageError(f'Workload "{self.workload.name}" has no routes.')
        return self

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

"""Simulated threads and the thread pool behind an event loop.

A ``Worker`` is one simulated thread: a stable synthetic identity (pid, tid, name) for the
events it produces, and the ``Gil`` of its process. A ``ThreadPool`` is anyio's default thread
limiter (40 tokens) with its worker threads: jobs wait for a token in FIFO order and run on the
most recently idle thread, as ``anyio.to_thread.run_sync`` does. Each job is a hop: its
``sched.thread`` says how long it waited (``queued_ns``, from the request asking the pool to
its start on a thread, as the shim measures it from before the token is taken), and the pool
keeps every such wait for the run's summary (``waits``), recorded or not.
Imports only ``sim.engine``, ``sim.gil``, ``sim.workload`` and ``sim.emit``.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim.engine import Engine
from sim.gil import Gil
from sim.workload import CPU

if TYPE_CHECKING:
    from sim.arrivals import Request
    from sim.emit import Emitter

__all__ = ["Worker", "ThreadPool", "ANYIO_TOKENS", "POOL_THREAD_NAME", "MAX_THREADS"]

ANYIO_TOKENS = 40
"""anyio's default ``CapacityLimiter`` for ``to_thread.run_sync`` (``_backends/_asyncio.py``)."""
POOL_THREAD_NAME = "AnyIO worker thread"
"""The name anyio gives its worker threads."""
MAX_THREADS = 4_194_304
"""The most threads a simulation may be given (``--threads``, ``--pool-size``, and processes ×
threads): Linux's ``PID_MAX_LIMIT`` on 64-bit (4 × 1024 × 1024, ``include/linux/threads.h``).
Every thread of every process takes an id from that one space, so no machine runs more; a value
above it is a typo. Threads are made only when a request needs one, so a big pool below it
costs only what the requests use."""


@dataclass(slots=True)
class Worker:
    """One simulated thread."""

    pid: int
    """Synthetic process id (1000 + process index)."""
    tid: int
    """Synthetic thread id (1 for the main/loop thread, then 2, 3, ... in creation order)."""
    name: str
    """Thread name, as the real server model would name it."""
    gil: Gil
    """The GIL of its process."""
    index: int = 0
    """Position among its siblings (worker-0 is 0)."""


class _Job:
    __slots__ = ("req", "phases", "done", "i", "handed", "start", "cpu", "worker")

    def __init__(
        self,
        req: Request,
        phases: tuple[tuple[int, int], ...],
        done: Callable[[Any], object],
        handed: int,
    ) -> None:
        self.req = req
        self.phases = phases
        self.done = done
        self.i = 0
        self.handed = handed
        """When the request asked the pool for a thread (before waiting for a token)."""
        self.start = 0
        self.cpu = 0
        self.worker: Worker | None = None


class ThreadPool:
    """``to_thread.run_sync`` behind a loop: a token limiter and lazily created threads."""

    def __init__(
        self,
        engine: Engine,
        gil: Gil,
        *,
        pid: int,
        first_tid: int,
        tokens: int = ANYIO_TOKENS,
        name: str = POOL_THREAD_NAME,
        via: str = "anyio.to_thread",
        emitter: Emitter | None = None,
    ) -> None:
        self.engine = engine
        self.gil = gil
        self.pid = pid
        self.first_tid = first_tid
        self.tokens = tokens
        self.name = name
        self.via = via
        self.emitter = emitter
        self.threads: list[Worker] = []
        """Every thread created so far."""
        self._idle: list[Worker] = []
        self._waiting: deque[_Job] = deque()
        self._busy = 0
        self.max_waiting = 0
        """The longest the token queue got."""
        # 8 bytes a hop: a 10-million-request run keeps them all for its summary.
        self.waits: array[int] = array("q")
        """How long each job that ran waited for a thread (ns, its ``queued_ns``), in the
        order the jobs ended."""

    def submit(
        self, req: Request, phases: tuple[tuple[int, int], ...], done: Callable[[Any], object]
    ) -> None:
        """Run ``phases`` (cpu / io / blocking-io, ns) on a pool thread, then ``done(req)``."""
        job = _Job(req, phases, done, self.engine.now)
        if self._busy < self.tokens:
            self._busy += 1
            self._start(job, self._idle.pop() if self._idle else self._new_thread())
        else:
            self._waiting.append(job)
            if len(self._waiting) > self.max_waiting:
                self.max_waiting = len(self._waiting)

    def _new_thread(self) -> Worker:
        worker = Worker(
            self.pid, self.first_tid + len(self.threads), self.name, self.gil, len(self.threads)
        )
        self.threads.append(worker)
        return worker

    def _start(self, job: _Job, worker: Worker) -> None:
        job.worker = worker
        job.start = self.engine.now
        self._advance(job)

    def _advance(self, job: _Job) -> None:
        phases = job.phases
        if job.i < len(phases):
            code, ns = phases[job.i]
            job.i += 1
            if code == CPU:
                job.cpu += ns
                self.gil.run(ns, self._advance, job)
            else:  # io and blocking-io both block a pool thread
                self.engine.after(ns, self._advance, job)
            return
        worker = job.worker
        assert worker is not None
        now = self.engine.now
        start = job.start
        queued = start - job.handed  # 0 when a token was free: a measured zero
        self.waits.append(queued)
        if self.emitter is not None:
            self.emitter.hop_span(job.req, worker, start, now - start, job.cpu, self.via, queued)
        if self._waiting:
            self._start(self._waiting.popleft(), worker)
        else:
            self._busy -= 1
            self._idle.append(worker)  # anyio reuses the most recently idle thread first
        job.done(job.req)

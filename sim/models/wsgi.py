"""WSGI models: requests wait in one FIFO queue for a worker thread that runs them start to end.

``threads``: N threads in one process (waitress). ``processes``: P processes × T threads
(gunicorn sync/gthread); a request goes to a free thread of the process with the most free
threads, so load spreads across processes. ``wsgi-on-loop``: asgiref's ``WsgiToAsgi`` runs every
request on one thread-sensitive executor thread, whatever the loop does.
On its thread a request's CPU phases take the process's GIL (and, with ``--cpus``, a share of
the machine's cores, which every process's GIL holder competes for); io and blocking-io hold the
thread but not the GIL; an offload runs inline (a WSGI app has no loop to hop from).
Imports only ``sim`` modules.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from typing import Any

from sim.arrivals import SENT_ALL, WAIT_GAP, Request
from sim.config import SimConfig
from sim.cores import Cores
from sim.emit import Emitter
from sim.engine import Engine
from sim.gil import Gil
from sim.workers import Worker
from sim.workload import CPU, OFFLOAD, SEND

__all__ = ["WorkerPoolModel", "ThreadsModel", "ProcessesModel", "WsgiOnLoopModel"]

BASE_PID = 1000


class WorkerPoolModel:
    """P processes × T threads pulling from one FIFO queue; each request holds its thread."""

    interface = "wsgi"
    thread_name = "worker-{index}"
    main_name = "MainThread"
    """The thread requests arrive on (the in-process load generator's)."""
    via = "wsgi"

    def __init__(
        self,
        engine: Engine,
        config: SimConfig,
        emitter: Emitter | None,
        done: Callable[[Request], Any],
    ) -> None:
        self.engine = engine
        self.config = config
        self.emitter = emitter
        self.done = done
        processes, threads = self.shape(config)
        self.processes = processes
        self.threads = threads
        self.queue: deque[Request] = deque()
        self.max_queue = 0
        """The longest the FIFO got."""
        self.cores = None if config.cpus is None else Cores(engine, config.cpus)
        """The machine's cores, shared by all processes (None: unlimited)."""
        self.gils = [
            Gil(engine, interval=config.switch_interval_ns, cores=self.cores)
            for _ in range(processes)
        ]
        # tid 1 is each process's main thread (it accepts connections); workers are 2, 3, ...
        self.mains = [
            Worker(BASE_PID + p, 1, self.main_name, self.gils[p]) for p in range(processes)
        ]
        self.workers = [
            [
                Worker(BASE_PID + p, 2 + i, self.thread_name.format(index=i), self.gils[p], i)
                for i in range(threads)
            ]
            for p in range(processes)
        ]
        # Free threads per process as min-heaps of thread index: the lowest free thread serves.
        self._idle: list[list[int]] = [list(range(threads)) for _ in range(processes)]
        self._dispatching = False

    @staticmethod
    def shape(config: SimConfig) -> tuple[int, int]:
        """Processes and threads per process, from the configuration."""
        return config.workers, config.threads

    def server_header(self) -> dict[str, Any]:
        """The ``server`` field of the recording header."""
        return {"model": self.config.model, "threads": self.threads, "workers": self.processes}

    def submit(self, req: Request) -> None:
        """A request arrives: it queues, then runs on the first free thread."""
        if self.emitter is not None:
            self.emitter.queued(req, self.mains[0])
        queue = self.queue
        if not queue and self.processes == 1 and self._idle[0] and not self._dispatching:
            # The common case under light load: a thread is free, start at once.
            self._begin(req, self.workers[0][heapq.heappop(self._idle[0])])
            return
        queue.append(req)
        if len(queue) > self.max_queue:
            self.max_queue = len(queue)
        self._dispatch()

    def _free_process(self) -> int:
        best, most = -1, 0
        for p, free in enumerate(self._idle):
            if len(free) > most:
                best, most = p, len(free)
        return best

    def _dispatch(self) -> None:
        # A loop, not recursion: a request with no work ends at once and frees its thread.
        if self._dispatching:
            return
        self._dispatching = True
        try:
            queue = self.queue
            single = self._idle[0] if self.processes == 1 else None
            while queue:
                if single is not None:
                    if not single:
                        break
                    worker = self.workers[0][heapq.heappop(single)]
                else:
                    p = self._free_process()
                    if p < 0:
                        break
                    worker = self.workers[p][heapq.heappop(self._idle[p])]
                self._begin(queue.popleft(), worker)
        finally:
            self._dispatching = False

    def _begin(self, req: Request, worker: Worker) -> None:
        req.worker = worker
        req.started = self.engine.now
        if self.emitter is not None:
            self.emitter.start(req, worker)
        self._advance(req)

    def _advance(self, req: Request) -> None:
        """Run the request's phases from where it is until one takes time, or the end."""
        work = req.work
        engine = self.engine
        while req.i < len(work):
            phase = work[req.i]
            code = phase[0]
            if code == SEND:
                if not self._send(req, phase):
                    return
                continue
            if code == OFFLOAD:  # cpu part, then io part, on this same thread
                if req.k == 0:
                    req.k = 1
                    req.cpu += phase[1]
                    req.worker.gil.run(phase[1], self._advance, req)  # type: ignore[union-attr]
                    return
                if req.k == 1:
                    req.k = 2
                    engine.after(phase[2], self._advance, req)
                    return
                req.k = 0
                req.i += 1
                continue
            req.i += 1
            if code == CPU:
                req.cpu += phase[1]
                req.worker.gil.run(phase[1], self._advance, req)  # type: ignore[union-attr]
            else:  # io and blocking-io both block the thread (and release the GIL)
                engine.after(phase[1], self._advance, req)
            return
        self._finish(req)

    def _send(self, req: Request, phase: tuple[int, ...]) -> bool:
        """One body chunk per call, the next ``gap`` after the last; False while waiting."""
        _, chunks, size, gap = phase
        emitter = self.emitter
        now = self.engine.now
        if emitter is not None and not req.responded:
            emitter.start_response(req, req.worker, now)  # type: ignore[arg-type]
        req.responded = True
        took = req.next_chunk(chunks, gap)
        if took == SENT_ALL:
            return True
        if took == WAIT_GAP:
            self.engine.after(gap, self._advance, req)
            return False
        if emitter is not None:
            emitter.wsgi_body(req, req.worker, now - took, took, size)  # type: ignore[arg-type]
        req.bytes_out += size
        return True

    def _finish(self, req: Request) -> None:
        worker = req.worker
        assert worker is not None
        now = self.engine.now
        emitter = self.emitter
        if not req.responded:
            req.bytes_out += req.route.bytes
            if emitter is not None:
                emitter.start_response(req, worker, now)
                emitter.wsgi_body(req, worker, now, 0, req.route.bytes)
        req.ended = now
        if emitter is not None:
            emitter.thread_span(req, worker, req.started, now - req.started, req.cpu, self.via)
            emitter.wsgi_close(req, worker, now)
            emitter.end(req, worker, close_called=True)
        heapq.heappush(self._idle[worker.pid - BASE_PID], worker.index)
        self.done(req)
        if self.queue:
            self._dispatch()


class ThreadsModel(WorkerPoolModel):
    """``threads``: N worker threads in one process, one FIFO queue (waitress, threads=4)."""

    @staticmethod
    def shape(config: SimConfig) -> tuple[int, int]:
        """One process of ``config.threads`` threads."""
        return 1, config.threads


class ProcessesModel(WorkerPoolModel):
    """``processes``: P processes × T threads (gunicorn sync when T=1, gthread otherwise)."""


class WsgiOnLoopModel(WorkerPoolModel):
    """``wsgi-on-loop``: asgiref's WsgiToAsgi, every request on its one executor thread."""

    thread_name = "ThreadPoolExecutor-0_{index}"
    main_name = "event-loop"

    @staticmethod
    def shape(config: SimConfig) -> tuple[int, int]:
        """One thread: asgiref's thread-sensitive executor."""
        return 1, 1

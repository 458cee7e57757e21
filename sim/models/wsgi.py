"""WSGI models: requests wait in one FIFO queue for a worker thread that runs them start to end.

``threads``: N threads in one process (waitress), behind waitress's connection limit (see
``ThreadsModel``). ``processes``: P processes × T threads
(gunicorn sync/gthread); a request goes to a free thread of the process with the most free
threads, so load spreads across processes. ``wsgi-on-loop``: asgiref's ``WsgiToAsgi`` runs every
request on one thread-sensitive executor thread, whatever the loop does, and never calls the
body iterable's ``close()`` (asgiref 3.13's ``run_wsgi_app`` only iterates it), so its requests
have no ``wsgi.close`` and end with ``close_called: False``, as the shim records them there.
On its thread a request's CPU phases take the process's GIL (and, with ``--cpus``, a share of
the machine's cores, which every process's GIL holder competes for); io and blocking-io hold the
thread but not the GIL; an offload runs inline (a WSGI app has no loop to hop from).
Processes and their threads come into being only when a request needs one that is not there yet
(the lowest free thread serves, so thread k is made when threads 0..k-1 are all busy): a run
makes at most min(P × T, peak concurrency) threads, and ``--threads 100000`` costs no more
than the requests that arrive, while the events are exactly those of an eagerly built pool.
A workload route that is a WebSocket session (a ``ws`` phase) is refused: WSGI has none.
Threads are named as the server each model stands for names its own (``waitress-0``, gunicorn's
``MainThread`` or ``ThreadPoolExecutor-0_0``, asgiref's ``ThreadPoolExecutor-0_0``), so a
simulated recording lines up with a real one side by side.
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
from sim.own_cores import OwnCores
from sim.workers import Worker
from sim.workload import CPU, OFFLOAD, SEND, refuse_websocket

__all__ = ["WorkerPoolModel", "ThreadsModel", "ProcessesModel", "WsgiOnLoopModel"]

BASE_PID = 1000
WAITRESS_OWN_SOCKETS = 2
"""Entries of waitress's socket map that are not clients: its listening socket and the pipe
that wakes its loop (``server.py``: ``len(self._map) >= connection_limit`` stops accepting)."""


class WorkerPoolModel:
    """P processes × T threads pulling from one FIFO queue; each request holds its thread."""

    interface = "wsgi"
    thread_name = "worker-{index}"
    """Its worker threads' names (``index``: 0, 1, ...)."""
    main_name = "MainThread"
    """The thread requests arrive on (the in-process load generator's)."""
    via = "wsgi"
    closes = True
    """Whether the server calls the body iterable's ``close()`` when the response is done
    (PEP 3333 requires it; asgiref's ``WsgiToAsgi`` does not)."""

    def __init__(
        self,
        engine: Engine,
        config: SimConfig,
        emitter: Emitter | None,
        done: Callable[[Request], Any],
    ) -> None:
        refuse_websocket(config.workload, config.model)  # WSGI has no WebSocket
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
        self.own_cores = OwnCores() if self.cores is None else None
        """Unlimited cores: a core for each process's GIL holder."""
        # Per process made so far (process p is made when the first request goes to it):
        self.gils: list[Gil] = []
        """Its GIL."""
        self.mains: list[Worker] = []
        """Its main thread, tid 1 (it accepts connections)."""
        self.workers: list[list[Worker]] = []
        """Its worker threads made so far (tids 2, 3, ...), by index."""
        # Its free threads among those made, as a min-heap of thread index: the lowest free
        # thread serves, and one not yet made is free too (and has a higher index than all).
        self._idle: list[list[int]] = []
        self._free: list[int] = []
        """How many of its threads are free, those not yet made included."""
        self._new_process()  # requests arrive on the first process's main thread
        self._dispatching = False
        self.slots = self.connection_slots(config)
        """How many clients may hold a connection at once (None: any number)."""
        self._connected: set[int] = set()
        """The clients holding a connection: closed-loop clients keep theirs (keep-alive) until
        they hang up; an open loop's requests are each a client of their own."""
        self.keep_alive = config.rate is None
        self.backlog: deque[Request] = deque()
        """Requests of clients waiting to be accepted, in the order they came."""
        self.max_backlog = 0
        """The most clients that waited to be accepted at once."""

    def connection_slots(self, config: SimConfig) -> int | None:
        """How many client connections the server holds at once; None: no limit."""
        return None

    @staticmethod
    def shape(config: SimConfig) -> tuple[int, int]:
        """Processes and threads per process, from the configuration."""
        return config.workers, config.threads_per_process

    def _new_process(self) -> int:
        """Make the next process (its GIL and main thread, no worker yet); its index."""
        p = len(self.gils)
        gil = Gil(
            self.engine,
            interval=self.config.switch_interval_ns,
            cores=self.cores,
            own_cores=self.own_cores,
        )
        self.gils.append(gil)
        self.mains.append(Worker(BASE_PID + p, 1, self.main_name, gil))
        self.workers.append([])
        self._idle.append([])
        self._free.append(self.threads)
        return p

    def _take(self, p: int) -> Worker:
        """The lowest free thread of process ``p`` (made now if every made one is busy)."""
        self._free[p] -= 1
        idle = self._idle[p]
        if idle:
            return self.workers[p][heapq.heappop(idle)]
        workers = self.workers[p]
        i = len(workers)
        worker = Worker(BASE_PID + p, self.tid_of(i), self.name_of(i), self.gils[p], i)
        workers.append(worker)
        return worker

    def name_of(self, index: int) -> str:
        """The name of worker thread ``index`` of a process."""
        return self.thread_name.format(index=index)

    def tid_of(self, index: int) -> int:
        """The thread id of worker thread ``index`` of a process (after the main thread's 1)."""
        return 2 + index

    def server_header(self) -> dict[str, Any]:
        """The ``server`` field of the recording header."""
        return {"model": self.config.model, "threads": self.threads, "workers": self.processes}

    def submit(self, req: Request) -> None:
        """A request arrives: it queues, then runs on the first free thread.

        Past the connection limit, a client that holds no connection yet waits (in the
        ``backlog``) until another client hangs up; its request is then read and queued.
        """
        if self.emitter is not None:
            self.emitter.queued(req, self.mains[0])
        slots = self.slots
        if slots is not None and req.client not in self._connected:
            if len(self._connected) >= slots:
                self.backlog.append(req)
                if len(self.backlog) > self.max_backlog:
                    self.max_backlog = len(self.backlog)
                return
            self._connected.add(req.client)
        self._serve(req)

    def hang_up(self, client: int) -> None:
        """Closed loop: ``client`` sends no more and closes its connection, freeing its slot
        for the first client waiting in the backlog."""
        if self.slots is None or client not in self._connected:
            return
        self._connected.discard(client)
        if self.backlog:
            req = self.backlog.popleft()
            self._connected.add(req.client)
            self._serve(req)

    def _serve(self, req: Request) -> None:
        """An accepted request: it queues, then runs on the first free thread."""
        queue = self.queue
        if not queue and self.processes == 1 and self._free[0] and not self._dispatching:
            # The common case under light load: a thread is free, start at once.
            self._begin(req, self._take(0))
            return
        queue.append(req)
        if len(queue) > self.max_queue:
            self.max_queue = len(queue)
        self._dispatch()

    def _free_process(self) -> int:
        """The process with the most free threads (the first of those tied); -1: none free.

        A process not yet made has every thread free and comes after all made ones, so it is
        chosen (made now) only when no made process is wholly free.
        """
        best, most = -1, 0
        for p, free in enumerate(self._free):
            if free > most:
                best, most = p, free
        if most < self.threads and len(self._free) < self.processes:
            return self._new_process()
        return best

    def _dispatch(self) -> None:
        # A loop, not recursion: a request with no work ends at once and frees its thread.
        if self._dispatching:
            return
        self._dispatching = True
        try:
            queue = self.queue
            single = self.processes == 1
            while queue:
                if single:
                    if not self._free[0]:
                        break
                    worker = self._take(0)
                else:
                    p = self._free_process()
                    if p < 0:
                        break
                    worker = self._take(p)
                self._begin(queue.popleft(), worker)
        finally:
            self._dispatching = False

    def _begin(self, req: Request, worker: Worker) -> None:
        req.worker = worker
        req.started = self.engine.now
        req.start_order = next(self.engine.order)
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
        req.end_order = next(self.engine.order)
        if emitter is not None:
            emitter.thread_span(req, worker, req.started, now - req.started, req.cpu, self.via)
            if self.closes:
                emitter.wsgi_close(req, worker, now)
            emitter.end(req, worker, close_called=self.closes)
        p = worker.pid - BASE_PID
        heapq.heappush(self._idle[p], worker.index)
        self._free[p] += 1
        if self.slots is not None and not self.keep_alive:
            self.hang_up(req.client)  # an open loop's client sends one request
        self.done(req)
        if self.queue:
            self._dispatch()


class ThreadsModel(WorkerPoolModel):
    """``threads``: N worker threads in one process, one FIFO queue (waitress, threads=4).

    waitress accepts no new connection while its socket map holds ``connection_limit`` (100)
    entries, and that map holds its listening socket and its wake-up pipe too: so 98 clients
    at most hold a connection, and the others wait unaccepted until one of them closes its own.
    A closed-loop client keeps its connection from its first request until it sends no more.
    """

    thread_name = "waitress-{index}"

    @staticmethod
    def shape(config: SimConfig) -> tuple[int, int]:
        """One process of ``config.threads`` threads."""
        return 1, config.threads_per_process

    def connection_slots(self, config: SimConfig) -> int | None:
        """``connection_limit`` less waitress's own two sockets; None: no limit."""
        limit = config.connection_limit
        return None if limit is None else limit - WAITRESS_OWN_SOCKETS


class ProcessesModel(WorkerPoolModel):
    """``processes``: P processes × T threads (gunicorn sync when T=1, gthread otherwise)."""

    def name_of(self, index: int) -> str:
        """gunicorn's sync worker runs each request on its process's main thread; gthread on
        its ``ThreadPoolExecutor``'s threads."""
        return "MainThread" if self.threads == 1 else f"ThreadPoolExecutor-0_{index}"

    def tid_of(self, index: int) -> int:
        """A sync worker's one thread is its main thread (tid 1)."""
        return 1 if self.threads == 1 else 2 + index


class WsgiOnLoopModel(WorkerPoolModel):
    """``wsgi-on-loop``: asgiref's WsgiToAsgi, every request on its one executor thread."""

    thread_name = "ThreadPoolExecutor-0_{index}"
    main_name = "event-loop"
    closes = False  # run_wsgi_app iterates the body and returns: close() is never called

    @staticmethod
    def shape(config: SimConfig) -> tuple[int, int]:
        """One thread: asgiref's thread-sensitive executor."""
        return 1, 1

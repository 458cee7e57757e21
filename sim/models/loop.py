"""The ``loop`` model: one asyncio event loop, one task per request, a thread pool behind it.

Tasks that are ready run one step at a time in FIFO order (asyncio's ready queue). A step runs
the request's phases until it awaits something: ``io`` and gaps between sent chunks are awaited
(``asyncio.sleep``: other tasks run meanwhile); ``cpu`` and ``blocking-io`` hold the loop, so
nothing else runs, and a step longer than the threshold is a ``loop.blocked``; ``offload`` and a
``sync`` route's handler go to the thread pool (anyio's 40 tokens), whose threads share the
process's GIL with the loop. A ``send`` phase sends each chunk with ``more_body=True`` and the
response ends with an empty body, as a streaming ASGI app does. An HTTP request first receives
its (empty) body, one ``asgi.receive``, unless its route says ``reads_body = false`` (an app that
never calls ``receive()``, whose recording has none). A ``ws`` route is a WebSocket
session, as the in-process ``loop`` server model runs one with its in-process client (whose next
message is there as soon as the last reply is sent): ``websocket.connect`` received, the
phases before ``ws``, ``websocket.accept``, then per message a ``websocket.receive`` and, after
the awaited reply delay, a ``websocket.send``; the client's ``websocket.disconnect`` (code 1000),
the phases after ``ws``, and ``request.end`` with status 101.

``--workers N`` (``SimConfig.workers``) stands for ``uvicorn --workers N``: N processes, each
with its own loop thread, thread pool (``pool_size`` tokens) and GIL, all sharing the machine's
cores as the ``processes`` model's do; ``LoopModel`` says which process accepts a connection,
and that a kept-alive client's requests all go to that one.
Imports only ``sim`` modules.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from sim.arrivals import SENT_ALL, WAIT_GAP, Request
from sim.config import SimConfig
from sim.cores import Cores
from sim.emit import WS_STATUS, Emitter
from sim.engine import Engine
from sim.gil import Gil
from sim.own_cores import OwnCores
from sim.workers import ThreadPool, Worker
from sim.workload import BLOCKING_IO, CPU, IO, OFFLOAD, SEND, WS

__all__ = ["LoopModel", "LoopProcess", "POOL"]

BASE_PID = 1000
POOL = 6
"""Phase code (after the workload's, ``CPU`` to ``WS``) for a ``sync`` route's whole handler
run in the pool."""
LOOP_THREAD_NAME = "event-loop"
"""The loop thread's name, as the in-process ``loop`` server model names it."""
SLEEP = "asyncio.sleep"
TO_THREAD = "anyio.to_thread.run_sync"  # what a real run awaits (tracer.shim.hops)


class LoopModel:
    """``loop``: one process (``workers`` 1, the in-process ``loop`` server model) or several
    (uvicorn's ``--workers N``), each an event loop thread ("event-loop") running requests as
    tasks ``request-<req>``.

    One process is the in-process model, where the load generator runs on the server's loop:
    a request's task is on the loop's ready queue the instant it arrives, so a step holding the
    loop then delays it (its ``loop.blocked`` lists it).

    Several processes are uvicorn's: they share one listening socket, and the kernel hands a
    new connection to a process waiting for one. A loop is waiting whenever it is not running a
    step (asyncio polls its selector between batches of ready callbacks, so a loop with tasks
    ready still accepts); a loop held by a step (CPU, a blocking call) cannot take it. A new
    connection goes to a process not running a step, the one with the fewest connections open
    (the first of those tied); a process not made yet has none and comes after the made ones,
    so it is made only when every free made one has a connection. When every loop is running a
    step, new connections wait in the socket's backlog, and a loop that finishes its step takes
    the oldest (and the next, while its step ends at once). A closed-loop client (``-c``) keeps
    its connection alive: it connects with its first request, and every later one goes to the
    process that accepted it, whose loop reads it once it is free (however busy that loop is
    and however idle the others). An open loop's arrival (``--rate``) is a client of its own,
    as in the ``threads`` model: a new connection, closed when answered, so a process's
    connections open are its requests in flight (``trace run --rate``'s client reuses an idle
    kept-alive connection when it has one, so a real run's arrivals stay more on the processes
    that accepted its first connections).

    The simulation spreads connections evenly; the kernel may not. Which of several waiting
    processes it wakes is the scheduler's choice, and one loop's accept can take several
    connections waiting at once (here a loop takes one at a time, the next only if it is still
    the free loop with the fewest), so a real run can put most clients on a few processes and
    leave the others idle, and be slower. Measured with ``uvicorn --workers 4``, an app
    blocking 50 ms, ``-c 8 -n 200``: the simulation's 80 requests a second (p50 100 ms, two
    clients on each process) was 72 in one real run (its connections two to a process) and 37
    in another (104 and 96 requests on two processes, none on the other two). Read a
    simulated ``--workers N`` as the best spread of its connections.

    ``request.queued`` is recorded on the first process's loop thread, as the ``processes``
    model records it on its first process's main thread (a real run records it in the client's
    process, which a simulation has not). A block's ``delayed`` names only its own process's
    requests, those that came on its kept-alive connections during the block among them (as
    the one-process model names those that arrived); a new connection's request still in the
    backlog is no loop's yet, as the shim does not list requests whose task has not started.
    """

    interface = "asgi"

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
        self.workers = config.workers
        self.cores = None if config.cpus is None else Cores(engine, config.cpus)
        """The machine's cores, shared by all processes (None: unlimited)."""
        # Unlimited cores and several processes: their GILs' turns are settled together, as
        # the processes model's are; one process keeps the GIL it always had.
        self.own_cores = OwnCores() if self.cores is None and self.workers > 1 else None
        self.processes: list[LoopProcess] = []
        """The processes made so far (process p when the first connection goes to it)."""
        self.keep_alive = config.rate is None
        """A closed loop's clients keep their connections; an open loop's arrivals are each a
        new connection, closed when answered."""
        self._process_of: dict[int, LoopProcess] = {}
        """Closed loop: each connected client's process (the one that accepted it)."""
        self.backlog: deque[Request] = deque()
        """New connections' requests waiting to be accepted: every loop was running a step
        when they came."""
        self.max_backlog = 0
        """The most requests that waited to be accepted at once."""
        self._handing = False
        self._new_process()

    def _new_process(self) -> LoopProcess:
        """Make the next process: its GIL, loop thread and thread pool."""
        p = len(self.processes)
        gil = Gil(
            self.engine,
            interval=self.config.switch_interval_ns,
            cores=self.cores,
            own_cores=self.own_cores,
        )
        on_idle = None if self.workers == 1 else self._hand_over
        process = LoopProcess(
            self.engine,
            self.config,
            self.emitter,
            self.done,
            pid=BASE_PID + p,
            gil=gil,
            on_idle=on_idle,
        )
        self.processes.append(process)
        return process

    @property
    def gils(self) -> list[Gil]:
        """Each process's GIL."""
        return [process.gil for process in self.processes]

    @property
    def pools(self) -> list[ThreadPool]:
        """Each process's thread pool."""
        return [process.pool for process in self.processes]

    @property
    def blocked_ns(self) -> int:
        """Total time of steps longer than the threshold, over all processes."""
        return sum(process.blocked_ns for process in self.processes)

    @property
    def max_ready(self) -> int:
        """The longest any loop's ready queue got."""
        return max(process.max_ready for process in self.processes)

    def server_header(self) -> dict[str, Any]:
        """The ``server`` field of the recording header."""
        return {
            "model": "loop",
            "threads": 1,
            "workers": self.workers,
            "pool_size": self.config.pool_size,
        }

    def submit(self, req: Request) -> None:
        """A request arrives: on one process, straight onto its loop; on several, on its
        client's kept-alive connection to its process, or on a new connection that a waiting
        loop accepts, else that waits in the backlog (behind any older ones)."""
        if self.workers == 1:
            self.processes[0].submit(req)
            return
        if self.emitter is not None:
            req.task = f"request-{req.id}"
            self.emitter.queued(req, self.processes[0].loop)
        if self.keep_alive:
            connected = self._process_of.get(req.client)
            if connected is not None:
                connected.accept(req)
                return
        process = None if self.backlog else self._waiting_process()
        if process is None:
            self.backlog.append(req)
            if len(self.backlog) > self.max_backlog:
                self.max_backlog = len(self.backlog)
            return
        self._connect(process, req)

    def _connect(self, process: LoopProcess, req: Request) -> None:
        """``process`` accepts the connection ``req`` came on (a closed loop's client keeps
        it for its later requests)."""
        if self.keep_alive:
            self._process_of[req.client] = process
            process.connections += 1
        process.accept(req)

    def hang_up(self, client: int) -> None:
        """Closed loop: ``client`` sends no more and closes its connection."""
        process = self._process_of.pop(client, None)
        if process is not None:
            process.connections -= 1

    def _waiting_process(self) -> LoopProcess | None:
        """The process that accepts a connection now (see the class); None: all are busy."""
        # An open loop's connection is closed when its one request is answered.
        keep_alive = self.keep_alive
        best: LoopProcess | None = None
        fewest = 0
        for process in self.processes:
            if process.current is None:
                count = process.connections if keep_alive else process.in_flight
                if best is None or count < fewest:
                    best, fewest = process, count
        if (best is None or fewest) and len(self.processes) < self.workers:
            return self._new_process()
        return best

    def _hand_over(self, process: LoopProcess) -> None:
        """``process``'s loop is back in its selector: waiting connections go, oldest first, to
        the loops waiting (it, and others its accepted steps let go of meanwhile)."""
        if self._handing:
            return  # an outer call is handing over already: it looks again after this one
        self._handing = True
        try:
            backlog = self.backlog
            while backlog:
                waiting = self._waiting_process()
                if waiting is None:
                    break
                self._connect(waiting, backlog.popleft())
        finally:
            self._handing = False


class LoopProcess:
    """One process: its event loop thread ("event-loop"), its thread pool and its GIL."""

    def __init__(
        self,
        engine: Engine,
        config: SimConfig,
        emitter: Emitter | None,
        done: Callable[[Request], Any],
        *,
        pid: int,
        gil: Gil,
        on_idle: Callable[[LoopProcess], Any] | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self.emitter = emitter
        self.done = done
        self.gil = gil
        """Its GIL: it runs one thread at a time, so a process uses at most one core."""
        # tid 1: the main thread (idle here); tid 2: the loop thread, where requests also
        # arrive (the in-process load generator shares the server's loop); 3...: the pool.
        self.loop = Worker(pid, 2, LOOP_THREAD_NAME, gil)
        self.pool = ThreadPool(
            engine, gil, pid=pid, first_tid=3, tokens=config.pool_size, emitter=emitter
        )
        self.threshold = config.block_threshold_ns
        self.on_idle = on_idle
        """Called when the loop has no step to run (it waits in its selector): several
        processes' model hands it a waiting request then."""
        self.ready: deque[Request] = deque()
        self.current: Request | None = None
        self._dispatching = False
        self.in_flight = 0
        """Requests accepted and not yet ended."""
        self.connections = 0
        """Closed-loop clients connected to it (kept alive until they send no more)."""
        self.blocked_ns = 0
        """Total time of steps longer than the threshold."""
        self.max_ready = 0
        """The longest the ready queue got."""

    def submit(self, req: Request) -> None:
        """A request arrives on this loop: its task is created and waits for the loop."""
        if req.route.sync:
            req.work = _as_sync_handler(req.work)
        if self.emitter is not None:
            req.task = f"request-{req.id}"
            self.emitter.queued(req, self.loop)
        self.in_flight += 1
        self._ready(req)

    def accept(self, req: Request) -> None:
        """A request on a connection this process accepted (its arrival is recorded already):
        its task is created and waits for the loop."""
        if req.route.sync:
            req.work = _as_sync_handler(req.work)
        self.in_flight += 1
        self._ready(req)

    def _ready(self, req: Request) -> None:
        self.ready.append(req)
        if len(self.ready) > self.max_ready:
            self.max_ready = len(self.ready)
        if self.current is None:
            self._dispatch()

    def _dispatch(self) -> None:
        # A loop, not recursion: a step that needs no time ends at once and frees the loop.
        if self._dispatching:
            return
        self._dispatching = True
        try:
            ready = self.ready
            while ready and self.current is None:
                req = ready.popleft()
                self.current = req
                now = self.engine.now
                req.step_start = now
                req.step_cpu = 0
                req.hold_ns = 0
                if req.started < 0:
                    req.started = now
                    req.start_order = next(self.engine.order)
                    if self.emitter is not None:
                        self.emitter.start(req, self.loop, req.task)
                        if req.route.reads_body or req.route.websocket:
                            self.emitter.receive(req, self.loop, now, req.task)
                self._run(req)
        finally:
            self._dispatching = False
        if self.current is None and self.on_idle is not None:
            self.on_idle(self)

    def _held(self, req: Request, ns: int, location: str) -> None:
        # Remember the longest loop-holding phase of the step: it is what a block is blamed on.
        if ns > req.hold_ns:
            req.hold_ns = ns
            req.hold_loc = location

    def _run(self, req: Request) -> None:
        """Continue the current step: phases until one is awaited, or the handler returns."""
        work = req.work
        while req.i < len(work):
            phase = work[req.i]
            code = phase[0]
            if code == SEND:
                if not self._send(req, phase):
                    return
                continue
            if code == WS:
                if not self._ws(req, phase):
                    return
                continue
            req.i += 1
            if code == CPU:
                req.step_cpu += phase[1]
                self._held(req, phase[1], "cpu")
                self.gil.run(phase[1], self._run, req)
            elif code == BLOCKING_IO:
                self._held(req, phase[1], "blocking-io")
                self.engine.after(phase[1], self._run, req)
            elif code == IO:
                self._suspend(req, SLEEP, "io")
                self.engine.after(phase[1], self._ready, req)
            elif code == OFFLOAD:
                self._suspend(req, TO_THREAD, "offload")
                self.pool.submit(req, ((CPU, phase[1]), (BLOCKING_IO, phase[2])), self._ready)
            else:  # POOL: a sync handler
                self._suspend(req, TO_THREAD, "handler")
                self.pool.submit(req, phase[1], self._ready)  # type: ignore[arg-type]
            return
        self._finish(req)

    def _send(self, req: Request, phase: tuple[int, ...]) -> bool:
        """One chunk per call; between chunks the gap is awaited. False when suspended."""
        _, chunks, size, gap = phase
        waited = req.next_chunk(chunks, gap)
        if waited == SENT_ALL:
            return True
        if waited == WAIT_GAP:
            self._suspend(req, SLEEP, "send")
            self.engine.after(gap, self._ready, req)
            return False
        self._send_body(req, size, more=True)
        return True

    def _ws(self, req: Request, phase: tuple[int, ...]) -> bool:
        """A WebSocket session: called when it begins and after each reply delay; False when
        suspended (awaiting the delay), True when the client has disconnected."""
        _, messages, size, gap = phase
        emitter = self.emitter
        loop, task = self.loop, req.task
        now = self.engine.now
        if req.k == 0:
            if emitter is not None:
                emitter.ws_accept(req, loop, now, task)
        else:  # back from the delay: answer message k
            req.bytes_out += size
            if emitter is not None:
                emitter.ws_send(req, loop, now, size, task)
        while req.k < messages:
            req.k += 1
            if emitter is not None:
                emitter.ws_receive(req, loop, now, size, task)
            if gap:
                self._suspend(req, SLEEP, "ws")
                self.engine.after(gap, self._ready, req)
                return False
            req.bytes_out += size  # answered at once: the same step goes on
            if emitter is not None:
                emitter.ws_send(req, loop, now, size, task)
        if emitter is not None:
            emitter.ws_disconnect(req, loop, now, task)
        req.k = 0
        req.i += 1
        return True

    def _send_body(self, req: Request, size: int, *, more: bool) -> None:
        """One ``http.response.body`` (after ``http.response.start`` for the first)."""
        emitter = self.emitter
        now = self.engine.now
        if not req.responded:
            req.responded = True
            if emitter is not None:
                emitter.asgi_response_start(req, self.loop, now, req.task)
        req.bytes_out += size
        if emitter is not None:
            emitter.asgi_body(req, self.loop, now, size, more, req.task)

    def _end_step(self, req: Request, awaiting: str | None, where: str) -> None:
        now = self.engine.now
        dur = now - req.step_start
        location = f"sim:{req.route.name}:{where}"
        emitter = self.emitter
        if emitter is not None:
            emitter.step(
                req, self.loop, req.step_start, dur, req.step_cpu, awaiting, location, req.task
            )
        if dur > self.threshold:
            self.blocked_ns += dur
            if emitter is not None:
                culprit = f"sim:{req.route.name}:{req.hold_loc}" if req.hold_ns else location
                delayed = [other.id for other in self.ready]
                emitter.blocked(req, self.loop, req.step_start, dur, culprit, delayed, req.task)
        self.current = None

    def _suspend(self, req: Request, awaiting: str, where: str) -> None:
        self._end_step(req, awaiting, where)
        self._dispatch()

    def _finish(self, req: Request) -> None:
        websocket = req.route.websocket
        if not websocket:
            # A streamed response (every chunk sent with more_body=True) ends as a real app
            # ends it, with an empty final body; one not yet begun is sent whole.
            self._send_body(req, 0 if req.responded else req.route.bytes, more=False)
        req.ended = self.engine.now
        req.end_order = next(self.engine.order)
        self._end_step(req, None, "return")
        if self.emitter is not None:
            if websocket:
                # Each message was answered with one of its size: bytes in = bytes out.
                self.emitter.end(req, self.loop, req.task, status=WS_STATUS, bytes_in=req.bytes_out)
            else:
                self.emitter.end(req, self.loop, req.task)
        self.in_flight -= 1
        self.done(req)
        self._dispatch()


def _as_sync_handler(work: tuple[tuple[int, ...], ...]) -> tuple[tuple[int, ...], ...]:
    """A ``def`` endpoint: everything but sending runs in the pool, then the loop sends."""
    job: list[tuple[int, int]] = []
    for phase in work:
        if phase[0] == OFFLOAD:
            job.extend(((CPU, phase[1]), (BLOCKING_IO, phase[2])))
        elif phase[0] != SEND:
            job.append((phase[0], phase[1]))
    if not job:
        job.append((BLOCKING_IO, 0))
    sends = tuple(phase for phase in work if phase[0] == SEND)
    return ((POOL, tuple(job)),) + sends  # type: ignore[return-value]

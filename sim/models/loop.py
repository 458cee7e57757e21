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
the phases after ``ws``, and ``request.end`` with status 101. Imports only ``sim`` modules.
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
from sim.workers import ThreadPool, Worker
from sim.workload import BLOCKING_IO, CPU, IO, OFFLOAD, SEND, WS

__all__ = ["LoopModel", "POOL"]

BASE_PID = 1000
POOL = 6
"""Phase code (after the workload's, ``CPU`` to ``WS``) for a ``sync`` route's whole handler
run in the pool."""
LOOP_THREAD_NAME = "event-loop"
"""The loop thread's name, as the in-process ``loop`` server model names it."""
SLEEP = "asyncio.sleep"
TO_THREAD = "anyio.to_thread.run_sync"  # what a real run awaits (tracer.shim.hops)


class LoopModel:
    """One event loop thread ("event-loop"), requests as tasks ``request-<req>``."""

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
        # One process, whose GIL runs one thread at a time: one core is all it can use, so
        # --cpus changes nothing here, but the GIL goes through the cores as in every model.
        self.cores = None if config.cpus is None else Cores(engine, config.cpus)
        self.gil = Gil(engine, interval=config.switch_interval_ns, cores=self.cores)
        # tid 1: the main thread (idle here); tid 2: the loop thread, where requests also
        # arrive (the in-process load generator shares the server's loop); 3...: the pool.
        self.loop = Worker(BASE_PID, 2, LOOP_THREAD_NAME, self.gil)
        self.pool = ThreadPool(
            engine, self.gil, pid=BASE_PID, first_tid=3, tokens=config.pool_size, emitter=emitter
        )
        self.threshold = config.block_threshold_ns
        self.ready: deque[Request] = deque()
        self.current: Request | None = None
        self._dispatching = False
        self.blocked_ns = 0
        """Total time of steps longer than the threshold."""
        self.max_ready = 0
        """The longest the ready queue got."""

    def server_header(self) -> dict[str, Any]:
        """The ``server`` field of the recording header."""
        return {"model": "loop", "threads": 1, "workers": 1, "pool_size": self.config.pool_size}

    def submit(self, req: Request) -> None:
        """A request arrives: its task is created and waits for the loop."""
        if req.route.sync:
            req.work = _as_sync_handler(req.work)
        if self.emitter is not None:
            req.task = f"request-{req.id}"
            self.emitter.queued(req, self.loop)
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

"""The ``processes`` server model: P worker processes × T threads (gunicorn sync / gthread).

Children are started with multiprocessing's ``spawn`` method (no fork of a process that already
runs threads; the app is imported afresh in each child from its spec, as gunicorn without
``--preload`` does). Every worker thread of every child takes requests from one shared queue,
as gunicorn's workers share one listening socket. Each child records into its own ``Recorder``
with the parent's ``start_ns`` (the monotonic clock is system-wide, so times line up) and streams
its events back through a pipe; the parent re-sequences them into the one recording as they
come. Children are always stopped: asked first, then terminated by pid.
Imports the spine, ``tracer.instrument`` and ``tracer.servers``; never the TUI or exporters.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import queue
import signal
import threading
import time
from typing import Any

import tracer
from tracer.errors import ServerError, TracerError, UsageError
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.servers import Request, Response, ServerConfig, Target
from tracer.servers.environ import build_environ
from tracer.servers.job import Job, JobTarget, load_app_for
from tracer.servers.threads import WorkerPool, call_wsgi

__all__ = ["DEFAULT_WORKERS", "DEFAULT_THREADS", "START_METHOD", "ProcessesServer"]

DEFAULT_WORKERS = 1
"""gunicorn's default ``workers``."""
DEFAULT_THREADS = 1
"""gunicorn's default ``threads`` (1: the sync worker)."""
START_METHOD = "spawn"
"""How children start: a fresh interpreter, never a fork of a threaded parent."""


class ProcessesServer:
    """WSGI in P child processes with T threads each, events merged into one recording."""

    name = "processes"

    def __init__(self, config: ServerConfig, recorder: Recorder) -> None:
        if not config.app_spec:
            raise UsageError(
                "--server processes needs APP as module:attr, so children can import it."
            )
        load_app_for(config, self.name, ("wsgi",))  # fail early, in the parent, on a misfit
        self.config = config
        self.recorder = recorder
        self.workers = config.workers or DEFAULT_WORKERS
        self.threads = config.threads or DEFAULT_THREADS
        context: Any = multiprocessing.get_context(START_METHOD)
        self._context = context
        self.jobs: Any = context.Queue()
        self.results: Any = context.Queue()
        self.events: Any = context.Queue()
        self.processes: list[Any] = []
        """The children (made by ``start``, which hands them the recording's t=0 as it is then)."""
        self._pending: dict[int, Job] = {}
        self._collectors = [
            threading.Thread(target=self._collect_results, name="processes-results", daemon=True),
            threading.Thread(target=self._collect_events, name="processes-events", daemon=True),
        ]
        self._target = _ProcessesTarget(self)

    @property
    def target(self) -> Target:
        """Requests go into the queue every worker thread of every child takes from."""
        return self._target

    def describe(self) -> dict[str, Any]:
        """``{"model": "processes", "workers": P, "threads": T, "start_method": "spawn"}``."""
        return {
            "model": self.name,
            "workers": self.workers,
            "threads": self.threads,
            "start_method": START_METHOD,
        }

    def start(self, timeout: float = 60.0) -> None:
        """Start the children and wait until each has imported the app."""
        child_config = dataclasses.replace(self.config, app=None)
        self.processes = [
            self._context.Process(
                target=_child_main,
                args=(
                    child_config,
                    self.recorder.start_ns,
                    self.threads,
                    self.jobs,
                    self.results,
                    self.events,
                ),
                name=f"worker-process-{i}",
                daemon=True,
            )
            for i in range(self.workers)
        ]
        for process in self.processes:
            process.start()
        deadline = time.monotonic() + timeout
        ready = 0
        try:
            while ready < self.workers:
                try:
                    message = self.results.get(timeout=0.2)
                except queue.Empty:
                    dead = [p for p in self.processes if p.exitcode is not None]
                    if dead or time.monotonic() > deadline:
                        raise ServerError(
                            f"A worker process of --server processes did not start "
                            f"(exit code {dead[0].exitcode if dead else 'none: timed out'})."
                        ) from None
                    continue
                if message[0] == "error":
                    raise ServerError(f"A worker process could not load the app: {message[1]}")
                ready += 1
        except BaseException:
            self._terminate()
            raise
        for collector in self._collectors:
            collector.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask every worker thread to stop, then terminate children that did not."""
        deadline = time.monotonic() + timeout
        # Requests no child took yet are not run any more (their clients are gone): the run
        # ends them as cancelled, as the other models' queued requests.
        try:
            while True:
                self.jobs.get_nowait()
        except queue.Empty:
            pass
        for _ in range(self.workers * self.threads):
            self.jobs.put(None)
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
        self._terminate()
        # The events collector ends when every child has said it is done (or died).
        self._collectors[1].join(max(0.1, deadline - time.monotonic()))
        self.results.put(None)
        self._collectors[0].join(1.0)

    def _terminate(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()
                process.join(1.0)
            if process.is_alive():
                process.kill()
                process.join(1.0)

    def _collect_results(self) -> None:
        while True:
            message = self.results.get()
            if message is None:
                return
            _, req, status, size, error = message
            job = self._pending.pop(req, None)
            if job is not None:
                job.finished = True
                job.resolve(Response(req, status, size, error))

    def _collect_events(self) -> None:
        finished = 0
        while finished < self.workers:
            try:
                batch = self.events.get(timeout=0.5)
            except queue.Empty:
                if all(p.exitcode is not None for p in self.processes) and self.events.empty():
                    return  # a child died without saying goodbye
                continue
            if batch is None:
                finished += 1
                continue
            for row in batch:
                self.recorder.add(Event(*row))


class _ProcessesTarget(JobTarget):
    def __init__(self, server: ProcessesServer) -> None:
        super().__init__(server.recorder)
        self._server = server

    async def request(self, request: Request, *, timeout: float | None = None) -> Response:
        server = self._server
        job = self.arrive(request)
        # A child may take it any time from now, out of our sight: once the run stops, its
        # end is left to the child (or to ``settle`` if the child never finishes it).
        job.started = True
        server._pending[job.req] = job
        server.jobs.put((job.req, request))
        return await self.wait(job, timeout)


class _ChildItem:
    __slots__ = ("req", "request", "_results")

    def __init__(self, req: int, request: Request, results: Any) -> None:
        self.req = req
        self.request = request
        self._results = results

    def claim(self) -> bool:
        return True  # the parent never withdraws what it put in the queue

    def resolve(self, response: Response) -> None:
        self._results.put(("done", self.req, response.status, response.bytes_out, response.error))


def _child_main(
    config: ServerConfig,
    start_ns: int,
    threads: int,
    jobs: Any,
    results: Any,
    events: Any,
) -> None:
    # A Ctrl-C at a terminal reaches the whole process group. The parent stops its workers
    # in order (each then flushes its last events); a worker dying of it mid-request would
    # print a traceback and lose what it recorded since its last flush.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    recorder = Recorder(start_ns=start_ns, keep=False, flush_interval=0.05)
    recorder.subscribe(lambda batch: events.put([event.as_row() for event in batch]))
    try:
        app, _ = load_app_for(config, "processes", ("wsgi",))
        traced = tracer.instrument(
            app, recorder=recorder, interface="wsgi", redact=config.redact, checks=config.checks
        )
    except TracerError as exc:
        results.put(("error", str(exc)))
        return
    except Exception as exc:  # the app's own import failed
        results.put(("error", f"{type(exc).__name__}: {exc}"))
        return
    results.put(("ready", os.getpid()))

    def get() -> _ChildItem | None:
        message = jobs.get()
        return None if message is None else _ChildItem(message[0], message[1], results)

    def handle(item: Any) -> None:
        environ = build_environ(
            item.request, item.req, http_version=config.http_version, multiprocess=True
        )
        status, size, error = call_wsgi(traced, environ)
        item.resolve(Response(item.req, status, size, error))

    pool = WorkerPool(get, handle, threads)
    pool.start()
    for thread in pool.threads:
        thread.join()
    recorder.close()
    events.put(None)

"""The ``threads`` server model: N worker threads taking WSGI requests from one FIFO queue.

It behaves as waitress does (threads=4 by default): a request arrives and waits in the queue
(``request.queued``) until a worker takes it; the worker builds a real environ, calls the
traced app with a real ``start_response``, iterates the body and calls ``close()``. An app
exception becomes a 500 when nothing was sent yet. Workers are daemon threads, so a worker hung
in the app is left behind at shutdown instead of hanging the run.
The pool and ``call_wsgi`` are reused by the ``processes`` model in each child.
Imports the spine, ``tracer.instrument`` and ``tracer.servers``; never the TUI or exporters.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import tracer
from tracer.errors import ServerError
from tracer.recorder import Recorder
from tracer.servers import Request, Response, ServerConfig, Target
from tracer.servers.environ import REQ_KEY, build_environ, parse_status
from tracer.servers.job import Job, JobTarget, load_app_for, record_refusal

__all__ = ["DEFAULT_THREADS", "ThreadsServer", "WorkerPool", "WorkItem", "call_wsgi"]

DEFAULT_THREADS = 4
"""waitress's default ``threads``."""


class WorkItem(Protocol):
    """What a worker takes from the queue: a request with its id and a way to answer."""

    req: int
    request: Request

    def claim(self) -> bool:
        """The worker takes it; False when the client already gave up (skip it)."""
        ...

    def resolve(self, response: Response) -> None:
        """Give the client its response (from the worker thread)."""
        ...


def call_wsgi(
    app: Any, environ: dict[str, Any], recorder: Recorder | None = None
) -> tuple[int | None, int, str | None]:
    """Run one WSGI request as a server does; return ``(status, body bytes, error)``.

    What a server cannot send is the app's error, as waitress and gunicorn make it: a status
    that is not a str (``TypeError``) or has no code (``ValueError``) raises in
    ``start_response``, into the app; a body item that is not bytes (``TypeError``) or body
    bytes before ``start_response`` (``RuntimeError``) stop the response: a 500 when nothing
    was sent yet, else the response is cut short. The shim saw nothing fail then, so the model
    ends the request itself on ``recorder`` (an ``error`` and a ``request.end``, before
    ``close()``): the first end is the request's, as its client saw it.
    """
    status: list[Any] = [None]
    sent = [False]
    written = [0]

    def start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info is not None and sent[0]:
            raise exc_info[1].with_traceback(exc_info[2])
        if not isinstance(line, str):
            raise TypeError(f"the status is a {type(line).__name__}, not a str ('200 OK')")
        if parse_status(line) is None:
            raise ValueError(
                f"the status {line!r} does not begin with an HTTP status code ('200 OK')"
            )
        status[0] = line
        return write

    def write(data: bytes) -> None:
        if not isinstance(data, bytes):
            raise TypeError(f"write() takes bytes, not {type(data).__name__}")
        sent[0] = True
        written[0] += len(data)

    error: str | None = None
    try:
        result = app(environ, start_response)
        try:
            refused: Exception | None = None
            for chunk in result:
                if chunk.__class__ is not bytes and not isinstance(chunk, bytes):
                    refused = TypeError(
                        f"the response iterable yielded a {type(chunk).__name__}, not bytes"
                    )
                    break
                if chunk:
                    if status[0] is None:
                        refused = RuntimeError("the app sent its body before start_response")
                        break
                    sent[0] = True
                    written[0] += len(chunk)
            else:
                if status[0] is None:
                    refused = RuntimeError("the app returned without calling start_response")
            if refused is not None:
                error = type(refused).__name__
                if not sent[0]:
                    status[0] = "500 Internal Server Error"
                if recorder is not None:
                    record_refusal(
                        recorder,
                        environ.get(REQ_KEY),
                        refused,
                        status=parse_status(status[0]),
                        bytes_in=_content_length(environ),
                        bytes_out=written[0],
                    )
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    # The app's failure is data: the client gets a 500 (if it can). BaseException too: an app
    # raising SystemExit or KeyboardInterrupt must not kill the worker thread (the pool would
    # shrink for the rest of the run), as uvicorn answers 500 to them.
    except BaseException as exc:
        error = error or type(exc).__name__
        if not sent[0]:
            status[0] = "500 Internal Server Error"
    code = parse_status(status[0]) if status[0] is not None else None
    return code, written[0], error


def _content_length(environ: dict[str, Any]) -> int:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class WorkerPool:
    """N daemon threads calling ``handle(item)`` for each item ``get()`` returns (None stops)."""

    def __init__(
        self,
        get: Callable[[], WorkItem | None],
        handle: Callable[[WorkItem], None],
        size: int,
        *,
        name: str = "worker",
    ) -> None:
        self._get = get
        self._handle = handle
        self.threads = [
            threading.Thread(target=self._run, name=f"{name}-{i}", daemon=True) for i in range(size)
        ]

    def start(self) -> None:
        """Start every worker; ``ServerError`` when the system allows no more threads (the
        workers started so far stay, daemon threads waiting for work)."""
        for started, thread in enumerate(self.threads):
            try:
                thread.start()
            except RuntimeError as exc:  # "can't start new thread": a limit of the system
                asked = len(self.threads)
                del self.threads[started:]  # what stop() sends a stop marker to
                raise ServerError(
                    f"Could start only {started} of the {asked} threads asked for: the system "
                    f"allows no more ({exc}). Use fewer --threads."
                ) from None

    def join(self, deadline: float) -> None:
        """Wait for the workers until ``deadline`` (``time.monotonic()``); hung ones are left."""
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self) -> None:
        get, handle = self._get, self._handle
        while True:
            item = get()
            if item is None:
                return
            if item.claim():  # False: the client gave up before a worker was free
                handle(item)


class ThreadsServer:
    """WSGI on N threads fed by one FIFO queue (waitress's model)."""

    name = "threads"

    def __init__(self, config: ServerConfig, recorder: Recorder) -> None:
        app, interface = load_app_for(config, self.name, ("wsgi",))
        self.config = config
        self.recorder = recorder
        self.interface = interface
        self.size = config.threads or DEFAULT_THREADS
        self.app = tracer.instrument(
            app,
            recorder=recorder,
            interface="wsgi",
            redact=config.redact,
            checks=config.checks,
        )
        # SimpleQueue: a FIFO in C, cheaper per put/get than queue.Queue (no task tracking).
        self.queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self.pool = WorkerPool(self.queue.get, self._handle, self.size)  # type: ignore[arg-type]
        self._target = _QueueTarget(self)

    @property
    def target(self) -> Target:
        """Requests go into the FIFO queue."""
        return self._target

    def describe(self) -> dict[str, Any]:
        """``{"model": "threads", "threads": N, "workers": 1}``."""
        return {"model": self.name, "threads": self.size, "workers": 1}

    def start(self) -> None:
        """Start the worker threads (``ServerError`` when the system allows fewer)."""
        try:
            self.pool.start()
        except ServerError:
            # The workers that did start end now: thousands left to the interpreter's exit
            # aborted it (pthread_exit could not load libgcc_s with no memory left for it).
            self.stop(timeout=10.0)
            raise

    def stop(self, timeout: float = 5.0) -> None:
        """One stop marker per worker after the queued requests; hung workers are left."""
        for _ in self.pool.threads:
            self.queue.put(None)
        self.pool.join(time.monotonic() + timeout)

    def _handle(self, job: Job) -> None:
        environ = build_environ(job.request, job.req, http_version=self.config.http_version)
        status, size, error = call_wsgi(self.app, environ, self.recorder)
        job.finished = True  # the shim has recorded its request.end
        job.resolve(Response(job.req, status, size, error))


class _QueueTarget(JobTarget):
    def __init__(self, server: ThreadsServer) -> None:
        super().__init__(server.recorder)
        self._queue = server.queue

    async def request(self, request: Request, *, timeout: float | None = None) -> Response:
        job = self.arrive(request)
        self._queue.put(job)
        return await self.wait(job, timeout)

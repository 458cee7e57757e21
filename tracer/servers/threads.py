"""The ``threads`` server model: N worker threads taking WSGI requests from one FIFO queue.

It behaves as waitress does (threads=4 by default): a request arrives and waits in the queue
(``request.queued``) until a worker takes it; the worker builds a real environ, calls the
traced app with a real ``start_response``, iterates the body and calls ``close()``.
``start_response`` refuses, into the app, what waitress's refuses (see ``call_wsgi``), and an app
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
from tracer.servers.forks import end_child, forked_child, serve_here
from tracer.servers.job import Job, JobTarget, load_app_for, read_by_app, record_refusal

__all__ = ["DEFAULT_THREADS", "Exchange", "ThreadsServer", "WorkerPool", "WorkItem", "call_wsgi"]

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


_HOP_BY_HOP = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
    )
)
"""Headers only the server may send (PEP 3333): waitress refuses them from the app."""


def _unencodable(text: str) -> UnicodeEncodeError | None:
    """What writing ``text`` on the wire (latin-1) raises, if anything."""
    try:
        text.encode("latin-1")
    except UnicodeEncodeError as exc:
        return exc
    return None


class Exchange:
    """One request's response as waitress's ``WSGITask`` holds it, with its ``start_response``
    and ``write`` (per request, never on the shared server)."""

    __slots__ = (
        "complete",
        "status",
        "wrote_header",
        "written",
        "bad_status",
        "bad_headers",
        "refused_t",
        "_now",
    )

    def __init__(self, now: Callable[[], int] | None) -> None:
        self.complete = False
        """``start_response`` was called (even one that raised, as in waitress)."""
        self.status = "200 OK"
        """The status line; waitress's default stands when ``start_response`` refused the app's."""
        self.wrote_header = False
        """The status line and headers went out: from then on an error cuts the response short."""
        self.written = 0
        self.bad_status: UnicodeEncodeError | None = None
        """Why the status cannot be written (not latin-1): raised when the headers would be."""
        self.bad_headers: UnicodeEncodeError | None = None
        """The same for the headers: those of a call that raised are dropped, as in waitress."""
        self.refused_t: int | None = None
        """When ``start_response`` or ``write`` last raised into the app (recording time)."""
        self._now = now

    def start_response(
        self, status: Any, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        """waitress's checks, in its order and with its exceptions (the app sees them)."""
        try:
            if self.complete and not exc_info:
                raise AssertionError(
                    "start_response called a second time without providing exc_info."
                )
            if exc_info:
                try:
                    if self.wrote_header:
                        raise exc_info[1].with_traceback(exc_info[2])
                    self.bad_headers = None  # PEP 3333: the headers given before are dropped
                finally:
                    exc_info = None  # no cycle through the traceback
            self.complete = True
            if not isinstance(status, str):
                raise AssertionError(f"status {status} is not a string")
            if "\n" in status or "\r" in status:
                raise ValueError("carriage return/line feed character present in status")
            if parse_status(status) is None:  # waitress would send it; no client could read it
                raise ValueError(
                    f"the status {status!r} does not begin with an HTTP status code ('200 OK')"
                )
            self.status = status
            self.bad_status = None if status.isascii() else _unencodable(status)
            unsendable = None
            # One pass over the headers, as waitress's; isascii() is O(1) on a str, so the
            # latin-1 encoding is tried only for a header that has a non-ASCII character.
            for name, value in headers:
                if not isinstance(name, str):
                    raise AssertionError(
                        f"Header name {name!r} is not a string in {(name, value)!r}"
                    )
                if not isinstance(value, str):
                    raise AssertionError(
                        f"Header value {value!r} is not a string in {(name, value)!r}"
                    )
                if "\n" in value or "\r" in value:
                    raise ValueError("carriage return/line feed character present in header value")
                if "\n" in name or "\r" in name:
                    raise ValueError("carriage return/line feed character present in header name")
                lower = name.lower()
                if lower == "content-length":
                    int(value)  # waitress reads it so: a ValueError into the app
                elif lower in _HOP_BY_HOP:
                    raise AssertionError(
                        f'{name} is a "hop-by-hop" header; it cannot be used by a WSGI '
                        "application (see PEP 3333)"
                    )
                if unsendable is None and not (name.isascii() and value.isascii()):
                    unsendable = _unencodable(name) or _unencodable(value)
            self.bad_headers = unsendable
        except Exception:
            self.refused()
            raise
        return self.write

    def write(self, data: bytes) -> None:
        """The app's ``write``: headers go out with the first call (even with no bytes)."""
        try:
            if not self.complete:
                raise RuntimeError("start_response was not called before body written")
            if not isinstance(data, bytes):
                raise TypeError(f"write() takes bytes, not {type(data).__name__}")
            if not self.wrote_header:
                unsendable = self.bad_status or self.bad_headers
                if unsendable is not None:
                    raise unsendable
                self.wrote_header = True
        except Exception:
            self.refused()
            raise
        self.written += len(data)

    def sent(self) -> tuple[int | None, int]:
        """What the client has had so far: the status once the status line went out (None
        before), and the body bytes. Asked from another thread (a client timing out)."""
        return (parse_status(self.status) if self.wrote_header else None), self.written

    def header_error(self) -> Exception | None:
        """Why the status line and headers cannot go out now (None: they can)."""
        if not self.complete:
            return RuntimeError("the app sent its body before start_response")
        return self.bad_status or self.bad_headers

    def refused(self) -> None:
        """Note when the server raised into the app: if the app lets it out, the client's
        500 is dated there, before the shim's own end of the request."""
        if self._now is not None:
            self.refused_t = self._now()


def call_wsgi(
    app: Any,
    environ: dict[str, Any],
    recorder: Recorder | None = None,
    *,
    gone: Callable[[], bool] | None = None,
    exchange: Exchange | None = None,
) -> tuple[int | None, int, str | None]:
    """Run one WSGI request as waitress does; return ``(status, body bytes, error)``.

    ``start_response`` refuses what waitress refuses, raising into the app: a second call
    without ``exc_info`` or one after the response (``AssertionError``), a status that is not a
    str (``AssertionError``), CR or LF in the status or in a header (``ValueError``), a header
    name or value that is not a str or a hop-by-hop header (``AssertionError``), a
    ``Content-Length`` that is not a number (``ValueError``); with ``exc_info`` once the headers
    went out, it re-raises the app's exception. A status with no code is a ``ValueError`` too
    (waitress would send it; no client could read it). A status or header that is not latin-1
    fails when the headers are written (``UnicodeEncodeError``), as body items that are not
    bytes (``TypeError``) and body bytes before ``start_response`` (``RuntimeError``) do.

    ``gone()`` true after a chunk: the client left (it timed out, or the run stopped), and the
    body is not pulled further, as waitress's write raises ``ClientDisconnected`` then; the
    iterable is closed and the error is ``ClientDisconnected`` (an endless body ends so).
    ``exchange``: the request's response state, given when the caller asks it what went out
    while the app runs (``Exchange.sent``); a fresh one otherwise.

    What the server cannot send is the app's error: a 500 when nothing was sent yet, else the
    response is cut short. When the app's call raised (a refusal the app let out, or its own),
    the shim has already ended the request with the status the app gave; when the server
    refused the response, the model ends it again on ``recorder`` as its client saw it (a 500,
    dated at the refusal, so it is the first end); when the failure was the server's alone it
    records an ``error`` and that end before ``close()``, as the shim saw nothing fail.
    """
    if exchange is None:
        exchange = Exchange(recorder.now if recorder is not None else None)
    body_stream = environ.get("wsgi.input")  # ours: the shim wraps the one in environ
    error: str | None = None
    try:
        result = app(environ, exchange.start_response)
        try:
            refused, error = _pull_body(result, exchange, gone)
            if refused is not None:
                error = type(refused).__name__
                if not exchange.wrote_header:
                    exchange.status = "500 Internal Server Error"
                if recorder is not None:
                    record_refusal(
                        recorder,
                        environ.get(REQ_KEY),
                        refused,
                        status=parse_status(exchange.status),
                        bytes_in=read_by_app(body_stream),
                        bytes_out=exchange.written,
                    )
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        # waitress writes the headers of an empty body last (``finish``): from now on a late
        # start_response with exc_info re-raises, as after any response that went out.
        exchange.wrote_header = True
    # The app's failure is data: the client gets a 500 (if it can). BaseException too: an app
    # raising SystemExit or KeyboardInterrupt must not kill the worker thread (the pool would
    # shrink for the rest of the run), as uvicorn answers 500 to them.
    except BaseException as exc:
        if forked_child():  # a child the app forked: its sys.exit() ends it (tracer.servers.forks)
            end_child(exc)
        if not exchange.wrote_header:
            exchange.status = "500 Internal Server Error"
            if error is None and exchange.refused_t is not None and recorder is not None:
                record_refusal(
                    recorder,
                    environ.get(REQ_KEY),
                    exc,
                    status=500,
                    bytes_in=read_by_app(body_stream),
                    bytes_out=exchange.written,
                    t=exchange.refused_t,
                    raised=True,
                )
        error = error or type(exc).__name__
    if forked_child():  # the app's code returned in a child it forked: the child is done
        end_child()
    return parse_status(exchange.status), exchange.written, error


def _pull_body(
    result: Any, exchange: Exchange, gone: Callable[[], bool] | None
) -> tuple[Exception | None, str | None]:
    """Pull the app's response iterable to its end, as waitress writes it: ``(refused,
    error)``. ``refused`` is what the server could not send (a chunk that is not bytes, the
    headers that cannot go out with the first bytes, a body ended without ``start_response``
    or with unsendable headers); ``error`` is ``"ClientDisconnected"`` when ``gone()`` turned
    true after a chunk (the rest is not pulled). What the iterable raises goes through."""
    for chunk in result:
        if chunk.__class__ is not bytes and not isinstance(chunk, bytes):
            kind = type(chunk).__name__
            return TypeError(f"the response iterable yielded a {kind}, not bytes"), None
        if chunk:
            if not exchange.wrote_header:
                refused = exchange.header_error()
                if refused is not None:
                    return refused, None
                exchange.wrote_header = True
            exchange.written += len(chunk)
        if gone is not None and gone():
            return None, "ClientDisconnected"
    if not exchange.complete:
        return RuntimeError("the app returned without calling start_response"), None
    if not exchange.wrote_header:
        return exchange.bad_status or exchange.bad_headers, None
    return None, None


class WorkerPool:
    """N daemon threads calling ``handle(item)`` for each item ``get()`` returns (None stops).

    ``name`` names the threads, ``{index}`` their number from 0: as the server the model
    stands for names its own (``waitress-0``, gunicorn gthread's ``ThreadPoolExecutor-0_0``).
    """

    def __init__(
        self,
        get: Callable[[], WorkItem | None],
        handle: Callable[[WorkItem], None],
        size: int,
        *,
        name: str = "worker-{index}",
    ) -> None:
        self._get = get
        self._handle = handle
        self._size = size
        self._name = name
        self.threads: list[threading.Thread] = []
        """The workers started (what ``stop`` sends a stop marker to)."""

    def start(self) -> None:
        """Start every worker; ``ServerError`` when the system allows no more threads (the
        workers started so far stay, daemon threads waiting for work)."""
        serve_here()  # a child the app forks from a worker is the app's (tracer.servers.forks)
        # Each thread is made as it starts: made all first, ``--threads 3000000`` took every
        # byte there was (and 39 s) before the system refused the first it could not start.
        for started in range(self._size):
            name = self._name.format(index=started)
            thread = threading.Thread(target=self._run, name=name, daemon=True)
            try:
                thread.start()
            except RuntimeError as exc:  # "can't start new thread": a limit of the system
                raise ServerError(
                    f"Could start only {started:,} of the {self._size:,} threads asked for: the "
                    f"system allows no more ({exc}). Use fewer --threads."
                ) from None
            self.threads.append(thread)

    def run_here(self) -> None:
        """Serve on the calling thread, not on threads of the pool's own, until ``get()``
        returns None (gunicorn's sync worker serves on its process's main thread)."""
        serve_here()
        self._run()

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
        # Named as waitress names its threads (waitress-0, ...), the server this model stands
        # for, and as the simulator names them: real and simulated recordings line up.
        self.pool = WorkerPool(self.queue.get, self._handle, self.size, name="waitress-{index}")  # type: ignore[arg-type]
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
        body = environ["wsgi.input"]
        job.read_so_far = lambda: read_by_app(body)  # for an end its client records (a timeout)
        exchange = Exchange(self.recorder.now)
        job.sent_so_far = exchange.sent  # the same: a response that started keeps its status
        status, size, error = call_wsgi(
            self.app, environ, self.recorder, gone=lambda: job.abandoned, exchange=exchange
        )
        job.finished = True  # the shim has recorded its request.end
        job.resolve(Response(job.req, status, size, error))


class _QueueTarget(JobTarget):
    stop_leaves = True

    def __init__(self, server: ThreadsServer) -> None:
        super().__init__(server.recorder, server.config.redact)
        self._queue = server.queue

    async def request(self, request: Request, *, timeout: float | None = None) -> Response:
        job = self.arrive(request)
        self._queue.put(job)
        return await self.wait(job, timeout)

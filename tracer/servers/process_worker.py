"""The child side of ``--server processes``: what runs in each worker process.

Its one job is serving in a child: it leads a process group of its own (whatever the app forks
goes with it) and ends with its parent, sends its standard output and error to ``app_output``
when given, ignores SIGINT (the parent stops it), imports the app afresh from its spec, and
serves the queue all children share as gunicorn's workers do: on its main thread with one
thread (sync, ``MainThread``), else on T threads named as gthread's executor names its own
(``ThreadPoolExecutor-0_0``...). It records into a ``Recorder`` of its own with the parent's
``start_ns`` and sends its events back through its pipe (``_Outbox``): with
each answer, everything it recorded until then (one message, so an answered request always
has its events), and every ``SHIP_INTERVAL`` what requests still running recorded. A request
whose id the parent marks in ``gone`` (its client left) stops being pulled at the next body
chunk; how much of its body the app has read, and what of its response went out (its status
and body bytes), are written to memory the parent shares (``_SharedCountBody``,
``_SharedExchange``), so that an end the parent records (a timeout) says what the client had.
The parent side, which starts, watches and stops the children, is ``tracer.servers.processes``.
Imports the spine, ``tracer.instrument`` and ``tracer.servers``; never the parent side, the TUI
or exporters.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import itertools
import os
import signal
import sys
import threading
from typing import Any

import tracer
from tracer.errors import TracerError
from tracer.recorder import Recorder
from tracer.servers import Request, Response, ServerConfig
from tracer.servers.environ import build_environ, parse_status
from tracer.servers.exit_guard import guard_os_exit
from tracer.servers.failures import describe_failure
from tracer.servers.job import load_app_for
from tracer.servers.proc_groups import end_with_parent, lead_own_group
from tracer.servers.threads import Exchange, WorkerPool, call_wsgi

__all__ = ["GONE_SLOTS", "GTHREAD_NAME", "SENT_FIELDS", "SHIP_INTERVAL", "child_main", "read_sent"]

GTHREAD_NAME = "ThreadPoolExecutor-0_{index}"
"""The worker threads' names with ``--threads`` above 1: gunicorn's gthread worker runs
requests on the threads of its process's one ``ThreadPoolExecutor``, which names them so."""

SHIP_INTERVAL = 0.05
"""Seconds between a child's sendings of what requests still running recorded."""
GONE_SLOTS = 1 << 16
"""Size of ``gone``, the requests whose client left: request ``r`` is marked at ``r % GONE_SLOTS``
(its mark stays until request ``r + GONE_SLOTS``, or a later one of its slot, is abandoned)."""
SENT_FIELDS = 3
"""Numbers per worker thread in ``sent``, what of its response went out: 1 once a status line
did (0 before), that status, and the body bytes (``_SharedExchange``, ``read_sent``)."""
_INT64 = range(-(1 << 63), 1 << 63)
"""What one number of ``sent`` holds (a larger one would wrap, silently)."""


class _ChildItem:
    __slots__ = ("req", "request", "_outbox")

    def __init__(self, req: int, request: Request, outbox: _Outbox) -> None:
        self.req = req
        self.request = request
        self._outbox = outbox

    def claim(self) -> bool:
        return True  # the parent never withdraws what it put in the queue

    def resolve(self, response: Response) -> None:
        self._outbox.answer(self.req, response.status, response.bytes_out, response.error)


class _Outbox:
    """A child's pipe to the parent: what it recorded and its answers, in order, from any of
    its threads. An answer carries everything recorded until then: the parent gets both or,
    if the child dies first, neither."""

    def __init__(self, pipe: Any, recorder: Recorder) -> None:
        self._pipe = pipe
        self.recorder = recorder
        self._lock = threading.Lock()

    def send(self, message: tuple[Any, ...]) -> None:
        """Send one message."""
        with self._lock:
            self._send(message)

    def ship(self) -> None:
        """Send what was recorded since the last sending, if anything."""
        with self._lock:
            rows = self._rows()
            if rows:
                self._send(("events", rows))

    def answer(self, req: int, status: int | None, size: int, error: str | None) -> None:
        """Send the answer to request ``req``, with everything recorded until now."""
        with self._lock:
            self._send(("done", req, status, size, error, self._rows()))

    def _rows(self) -> list[tuple[Any, ...]]:
        return [tuple(event) for event in self.recorder.drain()]

    def _send(self, message: tuple[Any, ...]) -> None:
        try:
            self._pipe.send(message)
        except OSError:  # the parent is gone: nobody reads any more
            pass


class _SharedCountBody(io.BytesIO):
    """A request body that writes, after each read, how far the app has read into ``counts``
    (memory the parent shares): the parent ends a request itself (its client timed out, its
    child died) without asking the child, and must not claim bytes the app never read."""

    def __init__(self, body: bytes, counts: Any, slot: int) -> None:
        super().__init__(body)
        self._counts = counts
        self._slot = slot

    def _moved(self) -> None:
        self._counts[self._slot] = self.tell()

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        self._moved()
        return data

    def read1(self, size: int | None = -1, /) -> bytes:
        data = super().read1(size)
        self._moved()
        return data

    def readline(self, size: int | None = -1, /) -> bytes:
        data = super().readline(size)
        self._moved()
        return data

    def readlines(self, hint: int | None = -1, /) -> list[bytes]:
        lines = super().readlines(hint)
        self._moved()
        return lines

    def readinto(self, buffer: Any, /) -> int:
        count = super().readinto(buffer)
        self._moved()
        return count

    def __next__(self) -> bytes:
        line = super().__next__()
        self._moved()
        return line


class _SharedExchange(Exchange):
    """A request's response state (``threads.Exchange``) that keeps in ``sent`` (memory the
    parent shares, at ``slot * SENT_FIELDS``) whether its status line went out, that status,
    and the body bytes: the parent ends a request itself when its client times out, and says
    what the client had, as the other models do (``Job.sent_so_far``). Made before its request
    is put in its slot: it starts the slot at "nothing went out".

    Only ``written`` is watched (each body write and chunk sets it, once the status line went
    out with it): per chunk a property and one shared write, per request the status once. The
    status line of an empty body goes out after ``close()``, when the response is over."""

    __slots__ = ("_sent", "_at", "_bytes", "_told")

    def __init__(self, now: Any, sent: Any, slot: int) -> None:
        self._sent = sent
        self._at = at = slot * SENT_FIELDS
        self._told = False  # the status is in ``sent``
        sent[at] = 0
        super().__init__(now)  # sets ``written`` to 0: in ``sent`` too

    @property
    def written(self) -> int:
        """The body bytes that went out (Exchange's), also kept in ``sent``."""
        return self._bytes

    @written.setter
    def written(self, value: int) -> None:
        self._bytes = value
        at = self._at
        if not self._told and self.wrote_header:
            self._told = True
            status = parse_status(self.status)
            if status is not None and status in _INT64:
                self._sent[at + 1] = status  # before the flag: the parent reads the flag first
                self._sent[at] = 1
        self._sent[at + 2] = value


def read_sent(sent: Any, slot: int) -> tuple[int | None, int]:
    """What went out of the response in ``slot`` of ``sent``: its status (None: no status line
    went out) and body bytes."""
    at = slot * SENT_FIELDS
    started, status, written = sent[at : at + SENT_FIELDS]
    return (status if started else None), written


def child_main(
    config: ServerConfig,
    start_ns: int,
    threads: int,
    index: int,
    jobs: Any,
    pipe: Any,
    running: Any,
    body_read: Any,
    sent: Any,
    gone: Any,
    output: str | None = None,
) -> None:
    # A group of its own (before the app is imported: whatever it forks is in it), so that
    # stopping this child stops that too; and this child's end if the parent dies unstopped.
    end_with_parent(own_group=lead_own_group())
    if output is not None:
        _print_to(output)
    # A Ctrl-C at a terminal reaches the whole process group, this child's too until it left
    # it (just now). The parent stops its workers in order (each sends its last events); a
    # worker dying of it would print a traceback and lose what it was running. SIGINT was
    # blocked since the start (the parent's mask): one pending now is dropped, being ignored
    # (as is one sent to this child's own group: only the parent stops it).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    recorder = Recorder(start_ns=start_ns, keep=False)
    outbox = _Outbox(pipe, recorder)
    # What the worker needs is imported before the app, which may change what the process
    # allows (a recursion limit of 60 fails the shim's deep imports, not the app's requests);
    # the limit as it was says, in a failure, that the app lowered it.
    importlib.import_module("tracer.shim.wsgi")
    importlib.import_module("tracer.shim.hops").install()  # its hooks too, as the shim will
    limit = sys.getrecursionlimit()
    try:
        app, _ = load_app_for(config, "processes", ("wsgi",), say_hint=False)  # (the parent's)
    except TracerError as exc:
        outbox.send(("error", str(exc)))
        return
    except Exception as exc:  # the app's own import failed
        outbox.send(("error", describe_failure(exc, recursion_limit=limit)))
        return
    try:
        traced = tracer.instrument(
            app, recorder=recorder, interface="wsgi", redact=config.redact, checks=config.checks
        )
    except Exception as exc:  # the app loaded; the worker's own step after it failed
        outbox.send(("failed", describe_failure(exc, recursion_limit=limit)))
        return
    outbox.send(("ready", os.getpid()))
    # The app calling os._exit ends this process: what it recorded goes to the parent first.
    with guard_os_exit(lambda code: outbox.ship()):
        _serve_jobs(traced, config, threads, index, jobs, outbox, running, body_read, sent, gone)
    outbox.ship()
    outbox.send(("bye", index))
    recorder.close()


def _print_to(path: str) -> None:
    """This process's standard output and error, descriptors 1 and 2, appended to ``path`` (to
    nowhere if it cannot be opened: never to the terminal the parent's dashboard draws on).
    Appended: the children and the parent share the file, and no write overwrites another."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    except OSError:
        fd = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
    finally:
        os.close(fd)


def _serve_jobs(
    traced: Any,
    config: ServerConfig,
    threads: int,
    index: int,
    jobs: Any,
    outbox: _Outbox,
    running: Any,
    body_read: Any,
    sent: Any,
    gone: Any,
) -> None:
    """Run ``threads`` worker threads on ``jobs`` until each takes a stop marker; a request
    whose id the parent marks in ``gone`` (its client left) stops being pulled. How much of
    its body the app has read goes to ``body_read`` after each read, in its slot; what of its
    response went out, to ``sent`` as it goes out (``_SharedExchange``)."""
    shipped = threading.Event()
    slots = itertools.count(index * threads)  # each worker thread's slot in ``running``
    mine = threading.local()
    now = outbox.recorder.now

    def ship() -> None:  # what requests still running recorded, for a live view
        while not shipped.wait(SHIP_INTERVAL):
            outbox.ship()

    def get() -> _ChildItem | None:
        message = jobs.get()
        return None if message is None else _ChildItem(message[0], message[1], outbox)

    def handle(item: Any) -> None:
        slot = getattr(mine, "slot", None)
        if slot is None:
            slot = mine.slot = next(slots)
        body_read[slot] = 0
        exchange = _SharedExchange(now, sent, slot)  # (nothing went out: before ``running``)
        running[slot] = item.req
        environ = build_environ(
            item.request, item.req, http_version=config.http_version, multiprocess=True
        )
        environ["wsgi.input"] = _SharedCountBody(item.request.body, body_read, slot)
        req, at = item.req, item.req % GONE_SLOTS
        status, size, error = call_wsgi(
            traced, environ, outbox.recorder, gone=lambda: gone[at] == req, exchange=exchange
        )
        item.resolve(Response(item.req, status, size, error))
        running[slot] = 0

    shipper = threading.Thread(target=ship, name="worker-events", daemon=True)
    shipper.start()
    if threads == 1:
        # gunicorn's sync worker runs each request on its process's main thread (this one).
        WorkerPool(get, handle, 1).run_here()
    else:
        pool = WorkerPool(get, handle, threads, name=GTHREAD_NAME)
        pool.start()
        for thread in pool.threads:
            thread.join()
    shipped.set()
    shipper.join()

"""The ``processes`` server model: P worker processes × T threads (gunicorn sync / gthread).

Children are started with multiprocessing's ``spawn`` method (no fork of a process that already
runs threads; the app is imported afresh in each child from its spec, as gunicorn without
``--preload`` does). Every worker thread of every child takes requests from one shared queue,
as gunicorn's workers share one listening socket. Each child records into its own ``Recorder``
with the parent's ``start_ns`` (the monotonic clock is system-wide, so times line up) and sends
its events back through a pipe of its own: with each answer, everything it recorded until then
(one message, so an answered request always has its events), and every 50 ms what requests
still running recorded. The parent re-sequences them into the one recording as they come.

A request whose client left (it timed out, or the run stopped) is marked in ``gone``, memory the
children share, by its id: the child running it stops pulling its body at the next chunk and
closes it, as gunicorn's worker does once its write to the closed socket fails, and takes the
next request. What of each running request's response went out, its status and body bytes, is
in ``sent``, memory the children write as it goes out: the end the parent records when a
client times out (or a child dies) says what that client had, as the other models' ends do.

A child that dies during the run (the app called ``os._exit``, a crash) is seen at once, by its
process sentinel (or, when processes the app forked hold that open, by its exit code within
``EXIT_POLL``): the requests it was running end as ``WORKER_EXITED``, ``exit_code`` says why,
and the load is stopped (``watch_exit``), as when a real server exits. Each child leads a
session and process group of its own, as a real server does (``proc_groups``): what the app
forks goes with it. Children start with SIGINT blocked (a terminal's Ctrl-C reaches the
whole process group until a child has left it: it must not kill them mid-boot, each with a
traceback); the parent stops them, and ``start_until`` gives up on starting them once the run
is stopped. Children are always stopped: asked first, then their groups terminated, killed
after a second; a child whose parent died without stopping it kills its group. Given
``app_output`` (a file), each child appends its standard output and error there, descriptors 1
and 2, from its start (``trace run``'s dashboard owns the terminal).

This module is the parent's side: starting, watching and stopping the children, and merging
what they send. What runs in each child is ``tracer.servers.process_worker``.
Imports the spine and ``tracer.servers`` (``tracer.instrument`` through the child side); never
the TUI or exporters.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import multiprocessing
import queue
import selectors
import signal
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import wait
from typing import Any

from tracer.errors import ServerError, UsageError
from tracer.recorder import Recorder
from tracer.servers import WORKER_EXITED, Request, Response, ServerConfig, Target
from tracer.servers.failures import killed_by
from tracer.servers.job import Job, JobTarget, load_app_for
from tracer.servers.pipe_selector import pipe_selector
from tracer.servers.proc_groups import signal_groups, wait_gone
from tracer.servers.process_worker import GONE_SLOTS, SENT_FIELDS, child_main, read_sent

__all__ = ["DEFAULT_WORKERS", "DEFAULT_THREADS", "START_METHOD", "ProcessesServer"]

DEFAULT_WORKERS = 1
"""gunicorn's default ``workers``."""
DEFAULT_THREADS = 1
"""gunicorn's default ``threads`` (1: the sync worker)."""
START_METHOD = "spawn"
"""How children start: a fresh interpreter, never a fork of a threaded parent."""
EXIT_POLL = 0.1
"""Seconds between looks at the children's exit codes: a child's sentinel shows its end at
once, unless a process the app forked holds it open (it inherited the child's descriptors)."""


class ProcessesServer:
    """WSGI in P child processes with T threads each, events merged into one recording."""

    name = "processes"
    exit_subject = "a worker process of --server processes"
    """Who ``exit_code`` is about, in the CLI's words."""
    exit_effect = "the requests it was running failed and the load was stopped"
    """What followed, in the CLI's words."""

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
        slots = self.workers * self.threads
        try:
            self.running: Any = context.RawArray("q", slots)
            """The request each worker thread of each child runs (0: none), child ``i``'s threads at
            ``i * threads`` on: what to fail when that child dies."""
            self.body_read: Any = context.RawArray("q", slots)
            """How many body bytes the app has read of the request in the same slot of ``running``
            (the shim's ``bytes_in``): what an end recorded here, not by the child, says."""
            self.sent: Any = context.RawArray("q", SENT_FIELDS * slots)
            """What of the response of the request in the same slot of ``running`` went out, its
            status and body bytes (``process_worker.read_sent``): what an end recorded here (its
            client timed out, its child died) says the client had."""
            self.gone: Any = context.RawArray("q", GONE_SLOTS)
            """Requests whose client left (timed out, or the run stopped), request ``r`` at
            ``r % GONE_SLOTS``: the child running it stops pulling its body (written here only
            when a client leaves; read by a child after each body chunk)."""
        except OSError as exc:  # its files (in /dev/shm) outgrow ulimit -f, or fill it
            largest = 8 * max(GONE_SLOTS, SENT_FIELDS * slots)
            raise _shared_memory_failed(exc, largest) from None
        self.processes: list[Any] = []
        """The children (made by ``start``, which hands them the recording's t=0 as it is then)."""
        self._pipes: dict[Any, int] = {}  # the reading end of each child's pipe -> its index
        self._said_bye: set[int] = set()  # children that ended as asked
        self._terminating = False  # children dying now are ours to kill
        self._load_stop: threading.Event | None = None
        self.app_output: str | None = None
        """A file each child appends its standard output and error to (descriptors 1 and 2,
        from its start), set before ``start``; None: they write where this process does."""
        self.exit_code: int | None = None
        """The exit code of a child that died by itself during the run (then the load stopped)."""
        self.exit_words: str | None = None
        """How that child ended, when "exited by itself (exit code N)" would not say it (a
        signal: ``killed_by``'s words)."""
        self._pending: dict[int, Job] = {}
        self._collector = threading.Thread(
            target=self._collect, name="processes-collector", daemon=True
        )
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
        self.start_until(None, timeout)

    def start_until(self, stop: threading.Event | None, timeout: float = 60.0) -> None:
        """``start``, unless ``stop`` is set first: then the children are stopped and it
        returns (the run was stopped while they started: not a failure)."""
        child_config = dataclasses.replace(self.config, app=None)
        try:
            # Children inherit this thread's signal mask across fork and exec.
            with _sigint_blocked():
                for index in range(self.workers):
                    if stop is not None and stop.is_set():
                        break
                    self._spawn(index, child_config)
            self._wait_ready(stop, time.monotonic() + timeout)
        except BaseException:
            self._terminate()
            raise
        if stop is not None and stop.is_set():
            self._terminate()
            return
        self._collector.start()

    def _spawn(self, index: int, config: ServerConfig) -> None:
        reader, writer = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=child_main,
            args=(
                config,
                self.recorder.start_ns,
                self.threads,
                index,
                self.jobs,
                writer,
                self.running,
                self.body_read,
                self.sent,
                self.gone,
                self.app_output,
            ),
            name=f"worker-process-{index}",
            daemon=True,
        )
        try:
            process.start()
        except OSError as exc:
            reader.close()
            writer.close()
            if exc.errno in (errno.EMFILE, errno.ENFILE, errno.EAGAIN):
                raise ServerError(
                    f"Cannot start worker process {index + 1} of --workers {self.workers}: "
                    f"{exc.strerror}. Ask for fewer workers (or raise the limit, ulimit -n)."
                ) from None
            raise
        writer.close()  # the child has its own: the pipe ends (EOF) when the child does
        self.processes.append(process)
        self._pipes[reader] = index

    def _wait_ready(self, stop: threading.Event | None, deadline: float) -> None:
        """Until every child said it loaded the app; ``ServerError`` if one cannot."""
        waiting = dict(self._pipes)
        while waiting:
            if stop is not None and stop.is_set():
                return
            sentinels = [self.processes[i].sentinel for i in waiting.values()]
            ready: list[Any] = wait([*waiting, *sentinels], 0.1)
            for pipe in ready:
                if pipe not in waiting:
                    continue  # a sentinel: judged below, once its pipe is read to the end
                try:
                    message = pipe.recv()
                except (EOFError, OSError):
                    continue
                if message[0] == "error":
                    raise ServerError(f"A worker process could not load the app: {message[1]}")
                if message[0] == "failed":
                    raise ServerError(
                        f"A worker process loaded the app, then failed before serving: {message[1]}"
                    )
                if message[0] == "ready":
                    del waiting[pipe]
            dead = [self.processes[i] for i in waiting.values()]
            dead = [p for p in dead if p.exitcode is not None]
            if dead and not (_killed(dead[0]) and _stopping_soon(stop)):
                raise ServerError(
                    "A worker process of --server processes did not start "
                    f"(exit code {dead[0].exitcode})."
                )
            if not dead and time.monotonic() > deadline:
                raise ServerError(
                    "A worker process of --server processes did not start (exit code none: "
                    "timed out)."
                )

    def watch_exit(self, stop: threading.Event) -> None:
        """Set ``stop`` when a child dies by itself during the load (``exit_code`` says how)."""
        self._load_stop = stop

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
        _join(self.processes, deadline)
        self._terminate()
        # The collector ends once it has seen every child end (each child is gone now).
        if self._collector.is_alive():
            self._collector.join(max(2 * EXIT_POLL, deadline - time.monotonic()))

    def _terminate(self) -> None:
        """End the children still running and whatever the app forked in any child: SIGTERM
        to each child's process group, SIGKILL to what is left of them after a second."""
        self._terminating = True
        groups = [process.pid for process in self.processes]  # each child leads its own
        for process in self.processes:
            if process.exitcode is None:
                process.terminate()  # a child that has not made its group yet (it starts)
        signal_groups(groups, signal.SIGTERM)
        deadline = time.monotonic() + 1.0
        _join(self.processes, deadline)
        left = wait_gone(groups, deadline)
        for process in self.processes:
            if process.exitcode is None:
                process.kill()
        if left:  # (never off POSIX: no groups there, nor SIGKILL)
            signal_groups(left, signal.SIGKILL)
        _join(self.processes, time.monotonic() + 1.0)

    def _collect(self) -> None:
        """Take what the children send until every one of them has ended."""
        # One selector for the whole run: ``multiprocessing.connection.wait`` makes one afresh
        # per call (POSIX), which per message costs more than the message.
        readers = {index: pipe for pipe, index in self._pipes.items()}
        with pipe_selector() as selector:
            for index, pipe in readers.items():
                selector.register(pipe, selectors.EVENT_READ, (False, index))
                selector.register(
                    self.processes[index].sentinel, selectors.EVENT_READ, (True, index)
                )

            def end(index: int) -> None:
                """Child ``index`` ended: read what it still sent, then judge how it ended."""
                pipe = readers.pop(index)
                for fileobj in (pipe, self.processes[index].sentinel):
                    with contextlib.suppress(KeyError):  # (its pipe's end may have come first)
                        selector.unregister(fileobj)
                self._read_to_end(pipe)
                self._ended(index)

            look = time.monotonic() + EXIT_POLL
            while readers:
                for key, _ in selector.select(EXIT_POLL):
                    ended, index = key.data
                    pipe = readers.get(index)
                    if pipe is None:  # its child's end, earlier in this batch, took it
                        continue
                    if not ended:
                        try:
                            self._take(pipe.recv())
                        except (EOFError, OSError):  # its end closed: the sentinel follows
                            selector.unregister(pipe)
                        continue
                    end(index)
                # A process the app forked keeps the child's sentinel (and pipe) open after
                # the child ended: its exit code says so (a waitpid, every EXIT_POLL).
                if time.monotonic() >= look:
                    look = time.monotonic() + EXIT_POLL
                    for index in [i for i in readers if self.processes[i].exitcode is not None]:
                        end(index)

    def _read_to_end(self, pipe: Any) -> None:
        # Only what is there already: a process the app forked may hold the pipe open, and
        # then its end (EOF) never comes.
        try:
            while pipe.poll():
                self._take(pipe.recv())
        except (EOFError, OSError):
            pass
        pipe.close()

    def _take(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "done":
            _, req, status, size, error, rows = message
            self.recorder.add_rows(rows)  # before the answer: the recording has its events
            job = self._pending.pop(req, None)
            if job is not None:
                job.finished = True
                job.resolve(Response(req, status, size, error))
        elif kind == "events":
            self.recorder.add_rows(message[1])
        elif kind == "bye":
            self._said_bye.add(message[1])

    def read_of(self, req: int) -> int:
        """How many body bytes the app has read of request ``req`` (0: no child runs it)."""
        for slot, running in enumerate(self.running):
            if running == req:
                read = int(self.body_read[slot])
                # As in ``sent_of``: its child may have finished it and taken the next request
                # in between, and then what was read is that one's (this one's answer says its
                # own).
                return read if self.running[slot] == req else 0
        return 0

    def sent_of(self, req: int) -> tuple[int | None, int]:
        """What request ``req``'s client has had: the status once its status line went out
        (None before) and the body bytes; ``(None, 0)`` when no child runs it."""
        for slot, running in enumerate(self.running):
            if running == req:
                sent = read_sent(self.sent, slot)
                # Its child may have finished it and taken the next request in between: then
                # what was read may be that one's, and this one's answer says its own.
                return sent if self.running[slot] == req else (None, 0)
        return (None, 0)

    def _ended(self, index: int) -> None:
        """Child ``index`` has ended: if it died by itself, fail its requests, stop the load."""
        process = self.processes[index]
        if index in self._said_bye or self._terminating:
            return
        process.join(1.0)  # its sentinel may fire a moment before its exit code is known
        if _killed(process) and _stopping_soon(self._load_stop):
            return  # a stop signal sent to the whole process group (``timeout``): our stop
        first = index * self.threads
        for slot in range(first, first + self.threads):
            req = self.running[slot]
            job = self._pending.pop(req, None) if req else None
            if job is not None:
                self._target.fail(job, WORKER_EXITED)  # (its slot still says what it read)
            self.running[slot] = 0
        if self.exit_code is None:
            self.exit_code = process.exitcode
            if self.exit_code is not None and self.exit_code < 0:
                # Died of a signal (a segmentation fault): said as a real server's death is.
                self.exit_words = f"{self.exit_subject} {killed_by(-self.exit_code)} during the run"
        if self._load_stop is not None:
            self._load_stop.set()


def _shared_memory_failed(exc: OSError, largest: int) -> ServerError:
    """One line for the memory the children share that could not be set up: multiprocessing
    keeps it in files (in /dev/shm, else the temporary folder), ``largest`` bytes the largest,
    which ``ulimit -f`` (EFBIG) or a full folder (ENOSPC) refuses."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    said = f"--server processes cannot set up the memory its workers share: {reason}"
    if exc.errno == errno.EFBIG:
        return ServerError(
            f"{said} (it needs a file of {-(-largest // 1024)} kB{_file_size_limit()}). "
            "Raise the limit (ulimit -f unlimited)."
        )
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return ServerError(f"{said}. Free some space in /dev/shm (or the temporary folder).")
    return ServerError(f"{said}.")


def _file_size_limit() -> str:
    """``", past the file-size limit, ulimit -f 200"``: this process's, in ulimit's kB."""
    try:
        import resource
    except ImportError:  # not POSIX: no ulimit
        return ""
    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if soft == resource.RLIM_INFINITY:
        return ""
    return f", past the file-size limit, ulimit -f {soft // 1024}"


def _join(processes: list[Any], deadline: float) -> None:
    """Wait until every one of ``processes`` has ended, until ``deadline`` at most. By exit code
    too: a process the app forked may hold a child's sentinel open after the child ended."""
    while True:
        alive = [process for process in processes if process.exitcode is None]
        left = deadline - time.monotonic()
        if not alive or left <= 0:
            return
        wait([process.sentinel for process in alive], min(left, EXIT_POLL))


def _killed(process: Any) -> bool:
    """Whether ``process`` ended of a signal (``exitcode`` is minus its number)."""
    return (process.exitcode or 0) < 0


def _stopping_soon(stop: threading.Event | None, grace: float = 0.5) -> bool:
    """Whether the run is being stopped (within ``grace`` s: a signal sent to the whole group
    reaches a child at once, and this process's handler a moment later)."""
    return stop is not None and stop.wait(grace)


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    """While inside, SIGINT waits (blocked) in this thread, and in children started from it."""
    if not hasattr(signal, "pthread_sigmask"):  # not POSIX
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _ProcessesTarget(JobTarget):
    stop_leaves = True

    def __init__(self, server: ProcessesServer) -> None:
        super().__init__(server.recorder, server.config.redact)
        self._server = server

    async def request(self, request: Request, *, timeout: float | None = None) -> Response:
        server = self._server
        job = self.arrive(request)
        # A child may take it any time from now, out of our sight: once the run stops, its
        # end is left to the child (or to ``settle`` if the child never finishes it).
        job.started = True
        server._pending[job.req] = job
        job.on_abandon = lambda: _mark_gone(server.gone, job.req)
        job.read_so_far = lambda: server.read_of(job.req)
        job.sent_so_far = lambda: server.sent_of(job.req)  # a started response keeps its status
        server.jobs.put((job.req, request))
        return await self.wait(job, timeout)


def _mark_gone(gone: Any, req: int) -> None:
    """Tell the children that request ``req``'s client left."""
    gone[req % GONE_SLOTS] = req

"""``ServerProcess``: a real server as a child process group on 127.0.0.1, started, waited for
and stopped without leaving anything behind.

The server runs in its own session (so its process group holds the master and every worker,
and a Ctrl-C in the terminal reaches only ``trace``, which then stops it). Readiness: the port
accepts connections, every expected process has loaded the app (it drops a ``<pid>.ready``
file) and, for an ASGI app on a server that runs the lifespan, has finished the app's lifespan
startup (``lifespan_marks``): a master or supervisor listens before its workers have run it.
An app that refuses to start (``lifespan.startup.failed``) stops the start with its own message.
Stopping: the server's own graceful signal to the master, then SIGKILL to the whole group
after a bound. A server that dies while starting raises ``ServerError`` with the one line of
its output that says why, once what is left of its group is killed at once: a start that
failed has nothing of the app's to finish, and its line waits for no graceful stop
(``stop_path`` records which way a server was stopped). Every wait here sleeps with ``tracer.servers.waits``: an app
imported in this process may have replaced ``time.sleep``. Imports only the spine
(``tracer.errors``), the process helpers of ``tracer.servers`` and ``lifespan_marks``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from tracer.errors import ServerError
from tracer.servers.proc_groups import group_members, wait_gone
from tracer.servers.real.lifespan_marks import shutdown_unanswered, started, startup_failure
from tracer.servers.waits import monotonic, sleep, wait_exit

__all__ = [
    "ServerProcess",
    "free_port",
    "check_port",
    "group_members",
    "failure_line",
    "HOST",
    "STOPPED_AT_ONCE",
    "STOPPED_EXITED",
    "STOPPED_GRACEFULLY",
    "STOPPED_KILLED",
]

HOST = "127.0.0.1"

# How a server was stopped (``ServerProcess.stop_path``).
STOPPED_GRACEFULLY = "graceful"
"""Its stop signal ended it within the bound."""
STOPPED_KILLED = "killed"
"""Its stop signal did not end it within the bound: its group was killed (SIGKILL)."""
STOPPED_EXITED = "exited"
"""Its main process had exited already: no stop signal; what was left of its group was
given the bound to end, then killed."""
STOPPED_AT_ONCE = "at once"
"""Its start failed (it died, could not load the app, or never became ready in time): its
group was killed at once, without a stop signal or a bound."""


def free_port(host: str = HOST) -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def check_port(port: int, host: str = HOST) -> None:
    """Raise ``ServerError`` if something already listens on ``host:port``.

    Readiness is "the port accepts", so a port taken by someone else would look ready. The
    test bind sets SO_REUSEADDR, as the servers do for theirs: a port left in TIME_WAIT by the
    previous run (nothing listens) is free for them, and a listener still refuses it.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                why = "something already listens there"
            else:
                why = f"it cannot be bound: {exc.strerror or exc}"
            raise ServerError(
                f"Port {port} on {host} is not free ({why}). Choose another port, or stop what "
                "listens there."
            ) from None


# Lines that name the cause when a server dies at startup, most telling first.
_CAUSES = (
    "address already in use",
    "error while attempting to bind",
    "modulenotfounderror",
    "importerror",
    "syntaxerror",
    "attributeerror",
    "gateway-tracer:",
    "error:",
    "error",
)


QUOTE_LIMIT = 300
"""Characters of a server's line quoted in a message: an app may print megabytes in one."""


# The last line of a Python traceback: the exception's name, and its message if any
# (``KeyboardInterrupt``, ``ValueError: bad``), not a source line quoted above it that happens to
# hold "error" (hypercorn's ``raise self._base_error``).
_EXCEPTION_LINE = re.compile(
    r"^(?:[A-Za-z_][\w]*\.)*[A-Z]\w*(?:Error|Exception|Interrupt|Exit|Group)(?::\s.*)?$"
)


def failure_line(output: str, silent: str = "it exited without a word") -> str:
    """The one line of a server's output that best says why it stopped (``silent`` when it
    printed nothing), cut to ``QUOTE_LIMIT`` characters: one naming the cause of a failed
    start, else the last exception a traceback names, else a line naming an error, else the
    last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for cause in _CAUSES[:-2]:
        for line in reversed(lines):
            if cause in line.lower():
                return _quoted(line)
    for line in reversed(lines):
        if _EXCEPTION_LINE.match(line):
            return _quoted(line)
    for cause in _CAUSES[-2:]:
        for line in reversed(lines):
            if cause in line.lower():
                return _quoted(line)
    return _quoted(lines[-1]) if lines else silent


def _quoted(line: str) -> str:
    if len(line) <= QUOTE_LIMIT:
        return line
    return (
        f"{line[:QUOTE_LIMIT]}… (cut: a line of {len(line):,} characters; "
        "the server's saved output has all of it)"
    )


class ServerProcess:
    """One real server: ``start()`` returns when it serves; ``stop()`` leaves no process."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        port: int,
        env: dict[str, str] | None = None,
        ready_dir: str | None = None,
        expected: int = 1,
        stop_signal: int = signal.SIGTERM,
        host: str = HOST,
        cwd: str | None = None,
        lifespan: bool = False,
        clock: Callable[[], float] = monotonic,
    ) -> None:
        """``lifespan``: the app is an ASGI one and the server runs its lifespan: ready means
        every process finished the app's lifespan startup too (its mark in ``ready_dir``)."""
        self.name = name
        self.command = list(command)
        self.port = port
        self.host = host
        self.env = env
        self.cwd = cwd
        self.ready_dir = ready_dir
        self.expected = expected
        self.stop_signal = stop_signal
        self.lifespan = lifespan
        self.clock = clock
        self.serving = False
        """Whether ``start`` saw it serve."""
        self.process: subprocess.Popen[bytes] | None = None
        self.pgid: int | None = None
        """Process group of the server (its master's pid); kept after ``stop`` for checks."""
        self.killed: str | None = None
        """Set by ``stop`` when the graceful stop did not end the server within its bound and
        it was killed: one line saying so (an app that ignores the stop signal does this)."""
        self.stop_path: str | None = None
        """How the server was stopped (``STOPPED_GRACEFULLY``, ``STOPPED_KILLED``,
        ``STOPPED_EXITED``, ``STOPPED_AT_ONCE``); None until it was."""
        self.left_running: Callable[[], int] | None = None
        """How many requests the app still runs whose client closed on purpose (``--read-for``,
        ``--read-bytes``), as the server's events tell: the kill line names them."""
        self._log = tempfile.TemporaryFile()
        # Read after the stop (``output``, ``save_output``): closed when this object goes, or
        # at exit, since nothing else closes it (unclosed, Python warns of it in -X dev).
        weakref.finalize(self, self._log.close)
        # Bytes of the log that are the server's own words: a server stopped while it was
        # still starting (the app importing) prints what our stop caused, such as waitress's
        # KeyboardInterrupt traceback from the middle of the import: not its last words.
        self._said: int | None = None

    @property
    def pid(self) -> int | None:
        """Pid of the server's master process (also its process group id)."""
        return None if self.process is None else self.process.pid

    def start(self, timeout: float = 20.0, stop: threading.Event | None = None) -> None:
        """Start the server and wait until it accepts connections and has loaded the app, or
        until ``stop`` is set (then it returns with the server still starting: stop it)."""
        try:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise ServerError(f"Could not start {self.name}: {exc}.") from None
        self.pgid = self.process.pid
        try:
            self._wait_ready(timeout, stop)
        except BaseException:
            # The error says why already: the group goes at once, so the line comes now.
            self.stop_at_once()
            raise

    def _wait_ready(self, timeout: float, stop: threading.Event | None = None) -> None:
        deadline = self.clock() + timeout
        while stop is None or not stop.is_set():
            if self.process is not None and self.process.poll() is not None:
                raise ServerError(
                    f"{self.name} stopped while starting (exit code {self.process.returncode}): "
                    f"{self._refused() or failure_line(self.output())}"
                )
            failed = self.failed_load()
            if failed is not None:
                raise ServerError(f"{self.name} could not load the app: {failed}")
            refused = self._refused()
            if refused is not None:
                raise self._refusal(refused)
            if self.ready_pids() >= self.expected and self.started_pids() >= self.expected:
                if self._accepts():
                    self.serving = True
                    return
            if self.clock() > deadline:
                printed = failure_line(self.output(), silent="")
                said = f"it last printed: {printed}" if printed else "it had printed nothing"
                raise ServerError(
                    f"{self.name} did not start serving on {self.host}:{self.port} within "
                    f"{timeout:g}s: it was still running, and {self._waiting_on()}; {said}"
                )
            sleep(0.02)

    def _refused(self) -> str | None:
        """The app's own words when its lifespan startup failed in a server process (it sent
        ``lifespan.startup.failed``): servers stop then, their log saying only that."""
        if not self.lifespan or self.ready_dir is None:
            return None
        message = startup_failure(self.ready_dir)
        if message is None:
            return None
        said = f': "{message}"' if message else " (without a message)"
        return f"the app's lifespan startup failed{said}; it sent lifespan.startup.failed"

    def _refusal(self, refused: str, grace: float = 5.0) -> ServerError:
        """The error of a start the app refused: once the server has exited over it (each
        does, its master too), with its exit code, as any server that stopped while starting."""
        code = None if self.process is None else wait_exit(self.process, grace)
        if code is None:
            return ServerError(f"{self.name} did not start serving: {refused}")
        return ServerError(f"{self.name} stopped while starting (exit code {code}): {refused}")

    def _waiting_on(self) -> str:
        """What a server still starting at its deadline was waiting on, as far as it shows."""
        loaded = self.ready_pids()
        if loaded < self.expected:
            # gunicorn accepts before its workers load the app: the ready marks tell.
            some = f" ({loaded} of its {self.expected} processes had)" if loaded else ""
            return (
                f"had not finished loading the app{some} (a slow import of the app looks like this)"
            )
        done = self.started_pids()
        if done < self.expected:
            some = f" ({done} of its {self.expected} processes had)" if done else ""
            return (
                f"loaded the app, but the app's lifespan startup had not completed{some} (a "
                "startup that never completes looks like this)"
            )
        return "loaded the app but did not accept connections on its port"

    def _accepts(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def failed_load(self) -> str | None:
        """Why a server process could not load the app (its ``<pid>.failed`` mark), if one
        could not."""
        if self.ready_dir is None:
            return None
        for name in os.listdir(self.ready_dir):
            if name.endswith(".failed"):
                with contextlib.suppress(OSError):
                    return (Path(self.ready_dir) / name).read_text().strip() or "unknown"
        return None

    def ready_pids(self) -> int:
        """How many server processes have loaded the app so far."""
        if self.ready_dir is None:
            return self.expected
        return sum(1 for name in os.listdir(self.ready_dir) if name.endswith(".ready"))

    def started_pids(self) -> int:
        """How many server processes have finished the app's lifespan startup (all that loaded
        the app, when the server runs no lifespan)."""
        if not self.lifespan or self.ready_dir is None:
            return self.ready_pids()
        return len(started(self.ready_dir))

    def returncode_now(self) -> int | None:
        """The exit code if the server's main process has exited, else None (not started
        or running)."""
        process = self.process
        return None if process is None else process.poll()

    def exit_within(self, seconds: float) -> int | None:
        """The exit code if the server's main process exits within ``seconds``, else None."""
        process = self.process
        if process is None:
            return None
        return wait_exit(process, seconds)

    def output(self) -> str:
        """Everything the server printed so far (stdout and stderr), but what it printed
        after a stop that came while it was still starting (that is the stop's doing)."""
        return b"".join(self._blocks()).decode("utf-8", "replace")

    def save_output(self, path: str) -> None:
        """Copy what ``output`` returns to ``path``, in blocks: an app printing per request
        can leave more than is worth reading into memory."""
        with open(path, "wb") as saved:
            for block in self._blocks():
                saved.write(block)

    def _blocks(self, size: int = 1 << 20) -> Iterator[bytes]:
        # pread, not seek and read: the server writes through the same open file, so moving
        # its offset would make it write over what it printed before.
        fd = self._log.fileno()
        end = os.fstat(fd).st_size if self._said is None else self._said
        offset = 0
        while offset < end:
            block = os.pread(fd, min(size, end - offset), offset)
            if not block:
                return
            offset += len(block)
            yield block

    def stop(self, timeout: float = 5.0) -> None:
        """Graceful stop, then SIGKILL to the whole group after ``timeout`` (idempotent)."""
        process = self.process
        if process is None:
            return
        pgid = process.pid
        deadline = self.clock() + timeout  # one bound for the master and its workers
        signalled = process.poll() is None
        if signalled:
            if not self.serving and self._said is None:
                self._said = os.fstat(self._log.fileno()).st_size
            try:
                os.kill(process.pid, self.stop_signal)
            except ProcessLookupError:
                pass
            wait_exit(process, timeout)
        # Workers outlive a master that died or was slow: the group goes, whatever is left.
        wait_gone([pgid], deadline, clock=self.clock)
        left = group_members(pgid)
        path = STOPPED_GRACEFULLY if signalled else STOPPED_EXITED
        if left or process.poll() is None:
            if signalled:
                self.killed = self._killed_line(timeout, master=process.poll() is None, left=left)
                path = STOPPED_KILLED
            self._kill_group(process)
        self.stop_path = path
        self.process = None

    def stop_at_once(self) -> None:
        """Kill the server's whole group now, without its stop signal or a bound, and reap it
        (idempotent): for a start that failed, whose error is known, so that it is said at
        once. Its master may have died already, leaving workers behind, or never have become
        ready: a worker still importing the app takes its stop signal only once the import is
        over (uvicorn's with ``--workers``, gunicorn's: their handlers just note it), which a
        graceful stop would wait for, its whole bound."""
        process = self.process
        if process is None:
            return
        if not self.serving and self._said is None:
            self._said = os.fstat(self._log.fileno()).st_size
        self._kill_group(process)
        self.stop_path = STOPPED_AT_ONCE
        self.process = None

    def _kill_group(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL every process of the server's group, reap the master, and return once the
        group is gone (within 2 s)."""
        pgid = process.pid
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
        # A killed worker dies when the kernel next schedules it, which on a loaded machine
        # can be after the master is reaped: return once the group is gone.
        wait_gone([pgid], self.clock() + 2.0, clock=self.clock)

    def shutdown_unanswered(self) -> int:
        """How many server processes received the app's lifespan shutdown and ended (or were
        ended) before the app answered it."""
        if not self.lifespan or self.ready_dir is None:
            return 0
        return len(shutdown_unanswered(self.ready_dir))

    def kill(self) -> None:
        """SIGKILL the whole group now (``stop`` still reaps it and says nothing more)."""
        pgid = self.pgid
        if self.process is None or pgid is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)

    def _killed_line(self, timeout: float, *, master: bool, left: Sequence[int]) -> str:
        """The line saying the stop had to kill: who outlived the stop signal, and the
        likely cause (an app that ignores the signal or hangs in a request)."""
        sig = signal.Signals(self.stop_signal).name
        if self.serving:
            doing = "still running"
        elif self.ready_pids() < self.expected:
            doing = "still starting (importing the app)"
        else:
            doing = "still starting (not yet serving)"
        many = not master and len(left) > 1
        was = "were" if many else "was"
        if master:
            who = f"{self.name} was {doing} {timeout:g} s after its stop signal ({sig})"
        else:
            who = (
                f"{len(left)} process{'es' if many else ''} of {self.name} "
                f"{was} {doing} {timeout:g} s after its stop signal ({sig})"
            )
        if not self.serving:
            # Stopped before it served (a Ctrl-C during a slow import): no request was sent,
            # so nothing of the app's can be blamed; a process busy importing takes no signal.
            return f"{who} and {was} killed (SIGKILL); no request was sent"
        if self.lifespan and self.ready_dir is not None and shutdown_unanswered(self.ready_dir):
            # The app's own handler was still running: that, not a request, held the server.
            return (
                f"{who} and {was} killed (SIGKILL): the app's lifespan shutdown had not "
                "finished (it received lifespan.shutdown and had not answered it); fix its "
                "shutdown handler"
            )
        left_running = self.left_running() if self.left_running is not None else 0
        if left_running:
            # Requests whose clients closed on purpose, still in the app: the server waits for
            # them, and one that drops the app's sends to a gone client (uvicorn) does not
            # tell the app, which runs on unless it watches for http.disconnect itself.
            many_left = left_running > 1
            return (
                f"{who} and {was} killed (SIGKILL): {left_running} "
                f"request{'s' if many_left else ''} {'were' if many_left else 'was'} still "
                f"running in the app after {'their clients' if many_left else 'its client'} "
                "had closed on purpose (--read-for, --read-bytes); the server waits for them, "
                "and an app that does not watch for its client leaving (http.disconnect) "
                "runs on when the server drops what it sends"
            )
        # Every cause seen to keep a server from ending at its stop signal: the app's own
        # handler, a request that never returns, a thread the interpreter waits for at exit,
        # and (left once the server itself ended) a process the app forked.
        causes = (
            f"the app ignores or handles {sig} (signal.signal({sig}, ...) at import or in a "
            "request), hung in a request, or left a thread running that is not a daemon "
            "(Python waits for it at exit)"
        )
        if not master:
            causes = (
                "the app forked processes (os.fork, multiprocessing) that do not end with the "
                f"server, or {causes}"
            )
        return f"{who} and {was} killed (SIGKILL): {causes}"

    def close(self) -> None:
        """Stop the server and forget its output."""
        self.stop()
        self._log.close()

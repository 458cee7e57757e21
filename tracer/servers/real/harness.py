"""``ServerProcess``: a real server as a child process group on 127.0.0.1, started, waited for
and stopped without leaving anything behind.

The server runs in its own session (so its process group holds the master and every worker,
and a Ctrl-C in the terminal reaches only ``trace``, which then stops it). Readiness: the port
accepts connections and every expected process has loaded the app (it drops a ``<pid>.ready``
file). Stopping: the server's own graceful signal to the master, then SIGKILL to the whole group
after a bound. A server that dies while starting raises ``ServerError`` with the one line of
its output that says why. Imports only the spine (``tracer.errors``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tracer.errors import ServerError

__all__ = ["ServerProcess", "free_port", "check_port", "group_members", "failure_line", "HOST"]

HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def check_port(port: int, host: str = HOST) -> None:
    """Raise ``ServerError`` if something already listens on ``host:port``.

    Readiness is "the port accepts", so a port taken by someone else would look ready.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise ServerError(
                f"Port {port} on {host} is not free ({exc.strerror or exc}: address already in "
                "use). Choose another port, or stop what listens there."
            ) from None


def group_members(pgid: int) -> list[int]:
    """Pids of live processes (not zombies) in process group ``pgid``, from /proc."""
    members: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command: state ppid pgrp ...
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry))
    return members


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


def failure_line(output: str, silent: str = "it exited without a word") -> str:
    """The one line of a server's output that best says why it stopped (``silent`` when it
    printed nothing)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for cause in _CAUSES:
        for line in reversed(lines):
            if cause in line.lower():
                return line
    return lines[-1] if lines else silent


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
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.port = port
        self.host = host
        self.env = env
        self.cwd = cwd
        self.ready_dir = ready_dir
        self.expected = expected
        self.stop_signal = stop_signal
        self.clock = clock
        self.process: subprocess.Popen[bytes] | None = None
        self.pgid: int | None = None
        """Process group of the server (its master's pid); kept after ``stop`` for checks."""
        self._log = tempfile.TemporaryFile()

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
            self.stop()
            raise

    def _wait_ready(self, timeout: float, stop: threading.Event | None = None) -> None:
        deadline = self.clock() + timeout
        while stop is None or not stop.is_set():
            if self.process is not None and self.process.poll() is not None:
                raise ServerError(
                    f"{self.name} stopped while starting (exit code {self.process.returncode}): "
                    f"{failure_line(self.output())}"
                )
            failed = self.failed_load()
            if failed is not None:
                raise ServerError(f"{self.name} could not load the app: {failed}")
            if self._accepts() and self.ready_pids() >= self.expected:
                return
            if self.clock() > deadline:
                # Still running, silent: waiting on something, such as an app's lifespan
                # startup that never completes. It did not exit.
                said = failure_line(
                    self.output(),
                    silent="it was still running and had printed nothing (an app's lifespan "
                    "startup that never completes looks like this)",
                )
                raise ServerError(
                    f"{self.name} did not start serving on {self.host}:{self.port} within "
                    f"{timeout:g}s: {said}"
                )
            time.sleep(0.02)

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
        try:
            return process.wait(seconds)
        except subprocess.TimeoutExpired:
            return None

    def output(self) -> str:
        """Everything the server printed so far (stdout and stderr)."""
        self._log.flush()
        self._log.seek(0)
        text = self._log.read().decode("utf-8", "replace")
        self._log.seek(0, os.SEEK_END)
        return text

    def save_output(self, path: str) -> None:
        """Copy everything the server printed to ``path``, in blocks: an app printing per
        request can leave more than is worth reading into memory."""
        self._log.flush()
        self._log.seek(0)
        try:
            with open(path, "wb") as saved:
                shutil.copyfileobj(self._log, saved)
        finally:
            self._log.seek(0, os.SEEK_END)

    def stop(self, timeout: float = 5.0) -> None:
        """Graceful stop, then SIGKILL to the whole group after ``timeout`` (idempotent)."""
        process = self.process
        if process is None:
            return
        pgid = process.pid
        if process.poll() is None:
            try:
                os.kill(process.pid, self.stop_signal)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        # Workers outlive a master that died or was slow: the group goes, whatever is left.
        self._wait_gone(pgid, timeout)
        if group_members(pgid) or process.poll() is None:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
            # A killed worker dies when the kernel next schedules it, which on a loaded
            # machine can be after the master is reaped: stop returns once the group is gone.
            self._wait_gone(pgid, 2.0)
        self.process = None

    def _wait_gone(self, pgid: int, seconds: float) -> None:
        """Wait until no live process is left in group ``pgid``, for ``seconds`` at most."""
        deadline = self.clock() + seconds
        while group_members(pgid) and self.clock() < deadline:
            time.sleep(0.02)

    def close(self) -> None:
        """Stop the server and forget its output."""
        self.stop()
        self._log.close()

"""What cannot run on this operating system or machine, refused in one line before anything
starts.

Everything else runs on Linux, macOS and Windows alike. Refused on Windows: ``--server
gunicorn`` (gunicorn's master forks its workers and answers POSIX signals: it does not import
there), the other real servers (the harness that runs them stops them, and sees its parent
gone, through process groups and POSIX signals, and reads their log with ``os.pread``: on
Windows a stop would be TerminateProcess, losing the lifespan shutdown and the last events),
and ``--serve`` (each browser session's process is handed a pipe descriptor and ended with its
process group, neither of which Windows has). macOS runs all of them. A real server also
needs a temporary folder it can write (its output and its start-up files are kept there):
a container with a read-only file system may have none, which is said with how to give one
(``TMPDIR``). Imports nothing of ours but ``tracer.errors`` and ``tracer.servers.real``'s table.
"""

from __future__ import annotations

import os
import sys

from tracer.errors import UsageError
from tracer.servers.real import REAL_SERVERS

__all__ = ["refuse_run_off_platform", "refuse_serve_off_platform", "refuse_without_temp_folder"]

_WSL = "or run trace under WSL"


def _windows() -> bool:
    return sys.platform == "win32"


def refuse_run_off_platform(server: str | None) -> None:
    """``UsageError`` for a ``trace run --server`` this system cannot run (uvloop, which has
    no Windows build, is an option of real servers only), or a real server where no
    temporary folder can be written."""
    if not _windows():
        if server in REAL_SERVERS:
            refuse_without_temp_folder(server)
        return
    if server == "gunicorn":
        raise UsageError(
            "--server gunicorn does not run on Windows (gunicorn forks its workers): use "
            f"--server waitress for a WSGI app or --server uvicorn for an ASGI app, {_WSL}."
        )
    if server in REAL_SERVERS:
        raise UsageError(
            f"--server {server} does not run under trace on Windows yet (trace stops a real "
            "server through POSIX process groups and signals): use an in-process model, "
            f"--server loop for an ASGI app or --server threads for a WSGI app, {_WSL}."
        )


def refuse_serve_off_platform() -> None:
    """``UsageError`` for ``--serve`` where processes have no process groups (Windows)."""
    if not hasattr(os, "killpg"):
        raise UsageError(
            "--serve does not run on Windows (each browser session's process is ended with "
            f"its process group): run trace demo in a terminal, {_WSL}."
        )


def refuse_without_temp_folder(server: str) -> None:
    """``UsageError`` when no temporary folder can be written (``tempfile``'s: ``TMPDIR``,
    ``/tmp``, ``/var/tmp``, ``/usr/tmp``, the current folder), where ``--server server``
    keeps its output and start-up files: tried, as root passes any permission check."""
    import tempfile  # only for a real server: not on the way to every command

    try:
        os.rmdir(tempfile.mkdtemp(prefix="gateway-tracer-check-"))
    except OSError as exc:
        if exc.filename is None:  # tempfile found no candidate it could write
            where = "none of TMPDIR, /tmp, /var/tmp, /usr/tmp or the current folder can be written"
        else:
            where = (
                f'"{os.path.dirname(os.fsdecode(exc.filename))}" cannot be written ({exc.strerror})'
            )
        raise UsageError(
            f"--server {server} keeps its output in a temporary folder, and {where}: "
            "set TMPDIR to a folder you can write."
        ) from None

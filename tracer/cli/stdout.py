"""Keeping a command's machine-readable output clean of what the traced app prints.

``trace run --json`` promises the summary JSON alone on stdout, yet the app it runs may
``print()`` at import or per request, and the ``processes`` model's children inherit the
file descriptor. While ``app_prints_to_stderr`` is active, standard output, Python's and the
descriptor's, is standard error; the command writes its own output to the stream it yields.
Imports only ``tracer.cli.streams`` (``to_devnull``).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TextIO

from tracer.cli.streams import to_devnull

__all__ = ["app_prints_to_stderr"]


@contextlib.contextmanager
def app_prints_to_stderr() -> Iterator[TextIO]:
    """While inside, whatever the app (or a child process) writes to standard output goes to
    standard error; yields the real standard output for the command's own words."""
    own = sys.stdout
    sys.stdout.flush()
    saved: int | None = None
    fd = -1
    process_stdout = sys.__stdout__
    if process_stdout is not None and own is process_stdout:
        # The descriptor too, so child processes started meanwhile inherit stderr as stdout.
        # (Under a test's capture sys.stdout is not fd 1: the Python level is enough there.)
        with contextlib.suppress(OSError, ValueError):
            fd = process_stdout.fileno()
            saved = os.dup(fd)
            os.dup2(sys.stderr.fileno(), fd)
    # The stream owns the duplicate: closed here once descriptor 1 has it back.
    real = own if saved is None else open(saved, "w", encoding="utf-8")  # noqa: SIM115
    sys.stdout = sys.stderr
    try:
        yield real
    finally:
        failure = _flushed(sys.stdout) or _flushed(real)
        sys.stdout = own
        if saved is not None:
            with contextlib.suppress(OSError):
                os.dup2(saved, fd)
            if failure is not None:
                # No room for the command's output (a full disk): what ``real`` still holds
                # goes nowhere as it closes, not to a last failing flush at exit ("Exception
                # ignored ... No space left on device"). The error is said once, below.
                to_devnull(saved)
            with contextlib.suppress(OSError, ValueError):
                real.close()
        if failure is not None and sys.exc_info()[1] is None:
            raise failure


def _flushed(stream: TextIO) -> OSError | ValueError | None:
    """Flush ``stream``; the error, if it could not be."""
    try:
        stream.flush()
    except (OSError, ValueError) as exc:
        return exc
    return None

"""``CrashReport``: where the app crashed, when it crashes the process it runs in.

With an in-process server model the tool is the server: a segmentation fault in the app (a C
extension's bug, ``ctypes``) ends the tool's own process at once, with no Python code run
after it, so nothing could say what happened: the shell's "Segmentation fault" was all. While
a ``CrashReport`` is on, Python's ``faulthandler`` writes the traceback of the thread that
crashed (the app's frames, with file and line) before the process dies of the signal, as it
would have. It writes to a duplicate of the descriptor it is given, made when it is turned on:
the app may close or replace descriptor 2 while it runs. Left alone when ``faulthandler`` was
on already (``python -X faulthandler``, ``PYTHONFAULTHANDLER``, pytest): that one reports.
Imports nothing of ours.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
from typing import IO, Any

__all__ = ["CrashReport"]


class CrashReport:
    """Turns ``faulthandler`` on for this process while inside (``with``); ``move_to`` sends
    what it writes somewhere else (a file instead of a terminal the dashboard draws on)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._file: IO[bytes] | None = None
        self._on = False

    def __enter__(self) -> CrashReport:
        if not faulthandler.is_enabled():
            self._on = self._enable(self._stream)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._on:
            self._on = False
            faulthandler.disable()
        self._close()

    def move_to(self, stream: Any) -> None:
        """Write there from now on (nothing changes when this report is not the one on)."""
        if self._on:
            self._on = self._enable(stream)

    def _enable(self, stream: Any) -> bool:
        """Point ``faulthandler`` at a duplicate of ``stream``'s descriptor; False when it has
        none (a test's capture), leaving ``faulthandler`` off."""
        try:
            stream.flush()
            duplicate = os.dup(stream.fileno())
        except (AttributeError, OSError, ValueError):
            if self._on:
                faulthandler.disable()
            return False
        previous = self._file
        self._file = os.fdopen(duplicate, "wb", buffering=0)
        # Only the crashing thread: the app's frames are what matter, and a run has dozens of
        # worker threads whose tracebacks would bury them.
        faulthandler.enable(file=self._file, all_threads=False)
        if previous is not None:
            with contextlib.suppress(OSError):
                previous.close()
        return True

    def _close(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            with contextlib.suppress(OSError):
                file.close()

"""The recorders of this process: the paths they claim, their close at exit, their reset in a
forked child.

Process-wide state that a ``Recorder`` registers with when it is made:

- ``CLAIMS``: the paths live file recorders write, so that two recorders of one process
  never write one file (the second gets ``run.2.jsonl``);
- ``LIVE``: every recorder not yet collected. At exit, each one nobody closed is closed (its
  last events written, a ``.gz`` stream completed); in a child forked from this process (a
  server's worker started with ``--preload``), each is reset to record afresh with the
  child's pid, request ids and file (``Recorder._forked``);
- the SIGTERM handler (``finish_files_on_sigterm``): a process SIGTERM would end at once,
  without atexit (waitress; uvicorn, which re-raises the signal after its graceful
  shutdown), first finishes its recorders' files, then ends by the same signal.

Imports only ``tracer.recorder_file`` (and ``tracer.recorder`` for types); never a shim, a
server model or the UI.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import threading
import time
import weakref
from typing import TYPE_CHECKING

from tracer.recorder_file import beside, is_file_or_absent

if TYPE_CHECKING:
    from tracer.recorder import Recorder

__all__ = ["CLAIMS", "LIVE", "SIGTERM_GRACE", "Claims", "finish_files_on_sigterm"]

log = logging.getLogger("tracer")


class Claims:
    """The paths this process's live file recorders write, so that two never write one file.

    The file's lock cannot tell them apart: it is taken at a recorder's first write and held
    only while its file is open, so a second recorder made for the path would truncate what
    the first wrote. A path is claimed when its recorder is made and freed by its ``close()``
    (or when it is collected).
    """

    def __init__(self) -> None:
        self._held: weakref.WeakValueDictionary[str, Recorder] = weakref.WeakValueDictionary()
        self._lock = threading.Lock()

    def claim(self, path: str, recorder: Recorder) -> str:
        """The path ``recorder`` is to write: ``path``, or ``run.<n>.jsonl`` beside it (n = 2,
        3, ...) when another live recorder of this process has ``path``."""
        if not is_file_or_absent(path):
            return path  # /dev/null and the like: written as they are, by any number
        with self._lock:
            own, n = path, 1
            while (key := os.path.realpath(own)) in self._held:
                n += 1
                own = beside(path, n)
            self._held[key] = recorder
        if own != path:
            log.warning(
                "the recording %s is being written by another recorder in this process; "
                "this one writes %s",
                path,
                own,
            )
        return own

    def holder(self, path: str) -> Recorder | None:
        """The live recorder of this process that claimed ``path``, if any."""
        with self._lock:
            return self._held.get(os.path.realpath(path))

    def release(self, recorder: Recorder) -> None:
        """Free the path ``recorder`` claimed, if it claimed one."""
        with self._lock:
            for key, holder in list(self._held.items()):
                if holder is recorder:
                    del self._held[key]

    def forked(self) -> None:
        """In a forked child: the lock may have been held by a thread that is not there."""
        self._lock = threading.Lock()


CLAIMS = Claims()
"""The paths claimed by this process's live recorders."""

LIVE: weakref.WeakSet[Recorder] = weakref.WeakSet()
"""Every recorder not yet collected: closed at exit, reset in a forked child."""


def _close_at_exit() -> None:
    # A recorder nobody closed (a server stopped by Ctrl-C, a script that ended) still gets
    # its last events written and, for .gz, a complete compressed stream.
    for recorder in list(LIVE):
        recorder._at_exit()


def _after_fork_in_child() -> None:
    CLAIMS.forked()
    for recorder in list(LIVE):
        # Each on its own: one left as it was would write into the parent's file, with the
        # parent's pid and the rows it had queued, so one failure must not stop the rest.
        try:
            recorder._forked()
        except Exception:
            log.exception("resetting the recording %s in a forked child failed", recorder.path)


SIGTERM_GRACE = 2.0
"""The most seconds a SIGTERM waits for drains other threads are in before the process ends
(a subscriber of theirs may wait for the main thread, which the signal holds)."""


def finish_files_on_sigterm() -> None:
    """Have a SIGTERM finish this process's recordings before it ends the process.

    Done when a file recorder is made, on the main thread only, and only while SIGTERM has
    its default action: a process that answers SIGTERM itself (gunicorn's workers, ``trace
    run``) ends as its handler decides, and its recorders close at exit as usual. The handler
    restores the default action, finishes each live recorder's file
    (``Recorder._finish_before_signal``) and sends the signal again, so the process still ends
    by SIGTERM: its parent sees the same status. A server that takes SIGTERM over after this
    and gives it back before it re-raises it (uvicorn) gets it too.
    """
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set a handler
    try:
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _finish_then_end)
    except (OSError, ValueError):  # no SIGTERM here, or not the main interpreter
        pass


def _finish_then_end(signum: int, frame: object) -> None:
    # Default first: a second SIGTERM while the files are finished ends the process at once,
    # as the first one would have.
    signal.signal(signum, signal.SIG_DFL)
    deadline = time.monotonic() + SIGTERM_GRACE
    # Nothing of ours logs meanwhile: a record would run anyone's logging handlers here.
    disabled, log.disabled = log.disabled, True
    try:
        for recorder in list(LIVE):
            try:
                recorder._finish_before_signal(deadline)
            except Exception:  # the process ends next, finished or not
                pass
    finally:
        log.disabled = disabled
        # Whatever happened (a Ctrl-C in the middle, too), the process ends by the signal.
        os.kill(os.getpid(), signum)


atexit.register(_close_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

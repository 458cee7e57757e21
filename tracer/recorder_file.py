"""``RecordingFile``: the file one ``Recorder`` streams its events to, and what became of it.

The recorder drains its queue into this object, which opens the file at the first batch (or
when asked to, with ``open``), writes the recorder's header first, writes it afresh while no
event is in the file and the header changed, checkpoints the file when a drain was asked
for, keeps the first failure to write (and tells the recorder's ``on_write_error`` once),
warns once about rows that came after the file was closed, and writes an empty run's
recording at the end. It also holds the file names: ``run.<n>.jsonl`` beside a path
someone else writes (``beside``), and whether a path is a regular file (``is_file_or_absent``),
and tells a recording a sibling worker process left behind (``sibling_wrote``).

It is not thread-safe: the recorder calls it under its drain lock. Imports only
``tracer.recording``; never a shim, a server model or the UI.
"""

from __future__ import annotations

import copy
import gzip
import json
import logging
import os
import stat
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Any

from tracer.recording import RecordingBusy, RecordingWriter

__all__ = ["PROCESS", "RecordingFile", "beside", "is_file_or_absent", "sibling_wrote"]

log = logging.getLogger("tracer")

PROCESS = "process"
"""The header field naming the process that wrote a recorder's file: ``{"pid", "ppid"}``.

Not in a simulation's file (a seed gives the same bytes in any process), nor when the
recorder's header has a ``process`` field of its own."""

_HEADER_LIMIT = 1 << 20  # the most bytes read of another recording's header line


class RecordingFile:
    """The file of one recorder: where it is, its writer, and whether writing it failed.

    ``path`` is absolute, or None for a recorder that writes no file. It may change once:
    to ``<name>.<pid>.jsonl`` beside it when another process writes ``path`` (a server's
    second worker importing the same app), or in a child forked from the recorder's process.
    """

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.writer: RecordingWriter | None = None
        self.written_header: dict[str, Any] | None = None  # the header the file holds
        self.error: OSError | None = None
        """The failure that stopped the file (disk full, a path that cannot be written)."""
        self.on_error: Callable[[OSError], None] | None = None
        """Called once, on the draining thread, when writing the file fails."""
        self.done = False  # closed by close(): later events cannot reach it
        self.parent_path: str | None = None  # in a forked child: the path the parent writes
        self.elsewhere = False
        """Whether ``path`` moved beside the path given because another process wrote that
        one (the recorder then numbers requests in this process's own range)."""
        self.born_ns = time.time_ns()  # to tell a file another process wrote since
        self._warned_late = False

    def takes_events(self) -> bool:
        """Whether a drained batch goes to the file (a path, no failure, not closed yet)."""
        return self.path is not None and self.error is None and not self.done

    def started(self) -> bool:
        """Whether the file holds events, or was closed: its t=0 can no longer move."""
        writer = self.writer
        return self.done or (writer is not None and writer.count > 0)

    def open(self, header: dict[str, Any]) -> None:
        """Open the file and write ``header`` now, unless it is open, failed or closed."""
        if self.path is not None and self.writer is None and self.error is None and not self.done:
            try:
                self.writer = self._open_writer(self.path, header)
            except OSError as exc:
                self.failed(exc)

    def refresh_header(self, header: dict[str, Any]) -> None:
        """``rewrite_header``, a failure kept as the file's error."""
        try:
            self.rewrite_header(header)
        except OSError as exc:
            self.failed(exc)

    def rewrite_header(self, header: dict[str, Any]) -> None:
        """Write the file afresh when ``header`` changed since it was opened and no event is
        in it yet (``open`` wrote an earlier header)."""
        writer = self.writer
        if writer is None or writer.count or header == self.written_header:
            return
        self.writer = None
        writer.close()
        self.writer = self._open_writer(writer.path, header)

    def write(
        self, batch: Sequence[Any], header: dict[str, Any], checkpoint: bool, *, lines: bool = False
    ) -> None:
        """Write a drained batch (opening the file at the first one): ``Event`` objects, or
        the queue's rows as they are (``RecordingWriter.write``), or with ``lines`` the
        objects of their lines made already (``RecordingWriter.write_lines``).

        A drain someone asked for — the ASGI shim's at a lifespan's end, a run's before its
        app ends the process, reading ``events`` — is a ``checkpoint``: the file is left
        complete (``RecordingWriter.checkpoint``), even when the batch is empty because the
        background thread took it a moment before. Only the background thread's timed drains
        are not, so a ``.gz`` stream does not become one gzip member every flush interval.
        """
        try:
            if batch:
                if self.writer is None:
                    assert self.path is not None  # takes_events() said so
                    self.writer = self._open_writer(self.path, header)
                else:
                    self.rewrite_header(header)
                if lines:
                    self.writer.write_lines(list(batch))
                else:
                    self.writer.write(batch)
            if self.writer is not None and checkpoint:
                self.writer.checkpoint()
        except OSError as exc:
            # The file stops here; the batch still goes on to memory and subscribers
            # (the run's report), and the recorder's close() raises the error.
            self.failed(exc)
        except Exception as exc:  # a bug of ours: the writer takes any event
            # Stopped as a failed write is, so the run still ends with its report and
            # says the file is incomplete, instead of the batch vanishing with the error.
            failure = OSError(f"an event could not be written ({type(exc).__name__}: {exc})")
            failure.__cause__ = exc
            self.failed(failure)

    def close(self, header: dict[str, Any]) -> None:
        """Close the file for good: an empty run still leaves a valid recording behind, with
        ``header`` as it is now when no event was written since the file opened."""
        writer, self.writer = self.writer, None  # a child forked later has none to abandon
        if (
            self.path is not None
            and writer is None
            and self.error is None
            and self.parent_path is None  # a forked child that recorded nothing: no file
            and not self.written_by_another()
            and sibling_wrote(self.path) is None  # a sibling worker's recording is its own
        ):
            try:
                writer = self._open_writer(self.path, header)
            except OSError as exc:
                self.failed(exc)
        if writer is not None:
            self.writer = writer
            self.refresh_header(header)  # opened early, no event since: the header as it is
            writer, self.writer = self.writer, None
        if writer is not None:
            try:
                writer.close()
            except OSError as exc:
                if self.error is None:
                    self.failed(exc)
        self.done = self.path is not None

    def forked(self, pid: int, claim: Callable[[str], str]) -> RecordingWriter | None:
        """In a child forked from the recorder's process: the parent's file is the parent's
        to write; this child takes ``run.<pid>.jsonl`` beside it (through ``claim``), whether
        or not the parent has opened the path yet. Returns the parent's writer, for the
        caller to abandon once the child's recorder is ready again."""
        writer, self.writer = self.writer, None  # None once closed: its file is closed too
        path = self.path
        if path is not None and not self.done and is_file_or_absent(path):
            # The parent's path stays claimed here too: a recorder this child makes for it
            # must not take the parent's file either.
            self.parent_path = path
            self.path = claim(beside(path, pid))
        return writer

    def failed(self, exc: OSError) -> None:
        """Writing the file failed: keep ``exc`` and tell ``on_error`` (or the log)."""
        self.error = exc
        callback = self.on_error
        if callback is None:
            log.error("writing the recording %s failed: %s", self.path, exc)
            return
        try:
            callback(exc)
        except Exception:  # an observer must never break the recording
            log.exception("the recording's on_write_error callback failed")

    def warn_late(self) -> None:
        """Say once that events came after the file was closed (they never reach it)."""
        if not self._warned_late:
            self._warned_late = True
            log.warning(
                "events recorded after the recording %s was closed are dropped (an app's "
                "thread or task still at work after the run)",
                self.path,
            )

    def written_by_another(self) -> bool:
        """Whether the file at ``path`` was written while this recorder lived, by another
        process (a forked worker that took it): this one, which recorded nothing, leaves it."""
        try:
            found = os.stat(self.path or "")
        except OSError:
            return False
        # An empty file is no recording (``trace run`` claims its path before the recorder
        # exists). The file system's clock is coarse (a few ms behind time.time_ns): 20 ms.
        return found.st_size > 0 and found.st_mtime_ns >= self.born_ns - 20_000_000

    def _open_writer(self, path: str, header: dict[str, Any]) -> RecordingWriter:
        """The writer of ``path``, or of ``<name>.<pid>.jsonl`` beside it when another live
        process writes ``path`` or a sibling worker process wrote it (``sibling_wrote``):
        every process keeps a whole recording of its own, and ``path`` says where it went."""
        if self.parent_path is not None:  # said here, not at the fork: only if it records
            log.warning(
                "this process (pid %d) was forked from the one recording %s; it writes %s",
                os.getpid(),
                self.parent_path,
                path,
            )
        header = copy.deepcopy(header)
        written = header
        if PROCESS not in header and header.get("source") != "simulated":
            written = {**header, PROCESS: {"pid": os.getpid(), "ppid": os.getppid()}}
        sibling = sibling_wrote(path)
        if sibling is None:
            try:
                writer = RecordingWriter(path, written)
            except RecordingBusy:
                self._move_beside(path, "is being written by another process")
            else:
                self.written_header = header
                return writer
        else:
            why = f"was written by pid {sibling}, another worker of this process's parent"
            self._move_beside(path, f"{why} (pid {os.getppid()})")
        assert self.path is not None  # _move_beside set it
        writer = RecordingWriter(self.path, written)
        self.written_header = header
        return writer

    def _move_beside(self, path: str, why: str) -> None:
        """Take ``<name>.<pid>.jsonl`` beside ``path``, which another process's recording is."""
        own = beside(path, os.getpid())
        log.warning("the recording %s %s; this one (pid %d) writes %s", path, why, os.getpid(), own)
        self.path = own
        self.elsewhere = True


def beside(path: str, tag: int) -> str:
    """``run.jsonl`` -> ``run.<tag>.jsonl`` (``.jsonl.gz`` too); another name gets ``.<tag>``."""
    for ending in (".jsonl.gz", ".jsonl", ".json.gz", ".json", ".gz"):
        if path.endswith(ending):
            return f"{path.removesuffix(ending)}.{tag}{ending}"
    return f"{path}.{tag}"


def is_file_or_absent(path: str) -> bool:
    """Whether ``path`` is a regular file or none yet (a recording, not a device or a pipe)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True


def sibling_wrote(path: str | None) -> int | None:
    """The pid of the sibling worker process that wrote the recording at ``path``, or None.

    A sibling is another worker of this process's parent: a server's master that starts a
    worker after another ended (gunicorn ``--max-requests``, a worker that died) must not have
    the new one truncate the old one's recording, as its lock (free once the old one exited)
    would let it. Only a worker tells: a program a shell or a script started again with the
    same path writes it afresh, as a later run of it should.
    """
    if path is None or not _worker_of_parent():
        return None
    try:
        with open(path, "rb") as raw:
            stream: Any = gzip.GzipFile(fileobj=raw) if path.endswith(".gz") else raw
            header = json.loads(stream.readline(_HEADER_LIMIT))
    except (OSError, EOFError, ValueError, zlib.error):
        return None  # none there, or no recording: nobody's to keep
    process = header.get(PROCESS) if isinstance(header, dict) else None
    if not isinstance(process, dict):
        return None
    pid, ppid = process.get("pid"), process.get("ppid")
    if type(pid) is int and pid != os.getpid() and ppid == os.getppid():
        return pid
    return None


def _worker_of_parent() -> bool:
    """Whether this process is a worker its parent started: by ``multiprocessing`` (uvicorn's
    and hypercorn's workers), or a copy of the parent forked without starting another program
    (gunicorn's: the same command line; Linux). A program a shell or a script ran is not."""
    ppid = os.getppid()
    if ppid <= 1:
        return False  # an orphan: its parent is gone, and so is the kinship
    process = sys.modules.get("multiprocessing.process")  # imported in every such worker
    if process is not None:
        parent = process.parent_process()
        if parent is not None and parent.pid == ppid:
            return True
    try:
        with (
            open("/proc/self/cmdline", "rb") as ours,
            open(f"/proc/{ppid}/cmdline", "rb") as theirs,
        ):
            return ours.read() == theirs.read()
    except OSError:
        return False  # no /proc here: never taken for a sibling's, written as before

"""The command's own standard output and error, whatever the app does to the process's.

An app run in process may replace ``sys.stdout`` or ``sys.stderr`` (a ``StringIO``, None) or
close descriptors 1 and 2 in a request; the command's report, the recording's path and its
errors must still reach the terminal or the pipe they went to when it started. While
``kept_streams()`` is active, ``KeptStreams.err`` writes there (the progress bar, while the app
runs), on a duplicate of the descriptor made as it started, and ``reclaim()``, once the app is
done, points ``sys.stdout`` and ``sys.stderr`` there again: the streams the command started
with when the app left their descriptors alone, else streams on the duplicates (kept for the
rest of the process). A stream that is not the process's own (a test's capture) has no
descriptor to keep: it is put back as it was. Imports nothing of ours.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

__all__ = ["KeptStreams", "kept_streams", "to_devnull"]


@dataclass(slots=True)
class _Kept:
    """One of the command's streams as it started, and a stream on a duplicate of its descriptor."""

    stream: Any
    """``sys.stdout`` or ``sys.stderr`` as the command started (None under pythonw)."""
    spare: TextIO | None
    """A stream on a duplicate of its descriptor; None when it is not the process's own."""

    def usable(self) -> Any:
        """The stream to write to now: the original while its descriptor is still the file it
        was, else the spare."""
        if self.spare is None or _same_file(self.stream, self.spare):
            return self.stream
        return self.spare


def _keep(stream: Any) -> _Kept:
    if stream is None or stream not in (sys.__stdout__, sys.__stderr__):
        return _Kept(stream, None)
    try:
        stream.flush()
        duplicate = os.dup(stream.fileno())
    except (AttributeError, OSError, ValueError):  # closed already, or no descriptor at all
        return _Kept(stream, None)
    spare = open(  # noqa: SIM115 (closed by kept_streams, or kept for the process's life)
        duplicate,
        "w",
        buffering=1 if stream.line_buffering else -1,  # 1: line by line, as a terminal's is
        encoding=stream.encoding,
        errors=stream.errors,
    )
    return _Kept(stream, spare)


def to_devnull(fd: int) -> None:
    """Point descriptor ``fd`` at the null device: what a stream on it still buffers goes
    nowhere, and its last flush (as it closes, or at exit) does not fail again."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)


def _same_file(stream: Any, spare: TextIO) -> bool:
    """Whether ``stream``'s descriptor is open and the file ``spare``'s duplicate is."""
    try:
        here = os.fstat(stream.fileno())
        there = os.fstat(spare.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


class KeptStreams:
    """The command's standard output and error as they were when it started."""

    def __init__(self) -> None:
        self._err = _keep(sys.stderr)
        # Under ``--json`` standard output is standard error while the app runs: one stream.
        self._out = self._err if sys.stdout is sys.stderr else _keep(sys.stdout)

    @property
    def err(self) -> Any:
        """Standard error as the command started, for what it writes while the app runs."""
        return self._err.spare or self._err.stream

    def reclaim(self) -> None:
        """Point ``sys.stdout`` and ``sys.stderr`` where they wrote when the command started
        (call it once the app is done: what the app replaced is its own no more)."""
        sys.stdout = self._out.usable()
        sys.stderr = self._err.usable()

    def close(self) -> None:
        """Reclaim, then close the duplicates no stream of ``sys`` needs."""
        self.reclaim()
        for kept in {id(k): k for k in (self._out, self._err)}.values():
            if kept.spare is None:
                continue
            try:
                kept.spare.flush()
            except (OSError, ValueError):
                # No room (a full disk): what it still holds would fail again as it is closed
                # or at exit ("Exception ignored ... No space left on device"): it goes nowhere.
                with contextlib.suppress(ValueError):  # closed already: holds nothing
                    to_devnull(kept.spare.fileno())
            if kept.spare is not sys.stdout and kept.spare is not sys.stderr:
                with contextlib.suppress(OSError, ValueError):
                    kept.spare.close()


@contextlib.contextmanager
def kept_streams() -> Iterator[KeptStreams]:
    """Keep the command's streams while inside; reclaim them on the way out."""
    kept = KeptStreams()
    try:
        yield kept
    finally:
        kept.close()

"""Where ``trace run`` and ``trace sim`` write their recording, checked before the load starts.

``claim_recording(path, default=...)`` makes a missing parent directory and opens the file once
for writing, so that an unwritable path is one line and exit code 2 (``UsageError``) before any
work is done. An explicit ``--record FILE`` is opened for appending, so an existing file is left
as it is until the run really starts. A default path (``traces/<app>-<time>.jsonl``) is never
overwritten: when it exists (two runs within one second), ``-2``, ``-3``… is added before the
extension, the file created with mode ``"x"`` so that two processes cannot claim the same one.

Every file a command writes gets the same rule: its missing folders are made (``make_parent``),
as ``--record`` makes them; ``probe_writable`` checks a path up front and leaves nothing behind.

``watch_writer(recorder)`` collects a failure of the recorder's file while the load runs (disk
full: ``Recorder.write_error``) so the load can stop, and ``cannot_write`` words every such
``OSError`` the way ``trace replay --screenshot`` does. ``lines_kept(path)`` counts the lines of
a file a run's output went to (``<name>.app.log``), removing it when nothing was written.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracer.errors import UsageError

if TYPE_CHECKING:
    from tracer.recorder import Recorder
    from tracer.recording import Recording

__all__ = [
    "RecordingTarget",
    "beside",
    "claim_recording",
    "cannot_write",
    "cut_short_warning",
    "unfinished_warning",
    "discard",
    "lines_kept",
    "make_parent",
    "probe_writable",
    "refuse_empty_record",
    "numbered",
    "watch_writer",
]

_SUFFIXES = (".jsonl.gz", ".jsonl")
_MAX_NUMBER = 10_000


@dataclass(frozen=True, slots=True)
class RecordingTarget:
    """A recording path that was checked writable."""

    path: str
    created: bool
    """The file did not exist before the check (remove it if the load never starts)."""
    made: str | None = None
    """The outermost directory the check created for it, if any (removed with it, if empty)."""


def refuse_empty_record(value: str | None, instead: str) -> None:
    """``UsageError`` for ``--record ""``: an empty name is a script's unset variable, not a
    choice of the default path; ``instead`` says what to give (or to leave out)."""
    if value == "":
        raise UsageError(f"--record needs {instead}")


def cut_short_warning(path: str, marked: str = "") -> str:
    """The warning line for a recording whose last line was cut short (it is left out);
    ``marked`` adds what the command did about it."""
    return (
        f"trace: warning: {path} ends with a cut-short line (the run was interrupted): "
        f"it is left out{marked}."
    )


def unfinished_warning(recording: Recording, given: str, marked: str = "") -> str:
    """The warning line for a recording that ends before its run did
    (``Recording.unfinished``): ``cut_short_warning`` when its last line was cut short,
    else a file whose writer never finished it (the process was killed, or is still
    writing): a plain file whose header says so, or a ``.gz`` stream that ends where its
    writer flushed it (``RecordingWriter.left_open``; read, it too is cut short, but no line
    of it was). ``marked`` adds what the command did."""
    from tracer.recording import RecordingWriter

    path = recording.path or given
    if recording.truncated and not RecordingWriter.left_open(path):
        return cut_short_warning(path, marked)
    return (
        f"trace: warning: {path} ends before its run did (its process was killed, or is "
        f"still writing it): it holds the events written until then{marked}."
    )


def cannot_write(path: str, exc: OSError) -> UsageError:
    """``Cannot write the recording "PATH": reason.`` for an ``OSError`` on the recording."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno == errno.EEXIST and exc.filename is not None:
        # mkdir of a parent that is a file: "File exists" would not say what is wrong
        reason = f'"{os.fsdecode(exc.filename)}" is a file, not a directory'
    elif exc.filename is not None and os.fsdecode(exc.filename) != path:
        reason = f'{reason}: "{os.fsdecode(exc.filename)}"'
    return UsageError(f'Cannot write the recording "{path}": {reason}.')


def numbered(path: str, number: int) -> str:
    """``traces/a-20261126-055549.jsonl`` -> ``traces/a-20261126-055549-2.jsonl`` (number 2)."""
    if number == 1:
        return path
    for suffix in _SUFFIXES:
        if path.endswith(suffix) and len(path) > len(suffix):
            return f"{path[: -len(suffix)]}-{number}{suffix}"
    stem, ext = os.path.splitext(path)
    return f"{stem}-{number}{ext}"


def beside(path: str, ending: str) -> str:
    """A file next to the recording ``path``, named after it: ``traces/run.jsonl`` with
    ``.server.log`` -> ``traces/run.server.log``."""
    for suffix in _SUFFIXES:
        if path.endswith(suffix):
            return path.removesuffix(suffix) + ending
    return path + ending


def lines_kept(path: str) -> int:
    """The lines of the file at ``path`` (a last one without its newline counts), read in
    blocks; an empty file is removed, and 0 returned (as for a missing one)."""
    lines = 0
    last = b""
    try:
        with open(path, "rb") as file:
            while block := file.read(1 << 16):
                lines += block.count(b"\n")
                last = block
        if not last:
            os.unlink(path)
    except FileNotFoundError:
        return 0
    return lines + (bool(last) and not last.endswith(b"\n"))


def claim_recording(path: str, *, default: bool = False) -> RecordingTarget:
    """Check, before the load, that the recording can be written at ``path``.

    Makes the missing parent directories. ``default=True``: ``path`` is the tool's own name,
    and the first of ``path``, ``path-2``… that does not exist is created (atomically) and
    returned. Otherwise ``path`` is opened for appending (an existing file is not truncated).
    Raises ``UsageError`` (``cannot_write``) when the path cannot be written; for the default
    path (the folder it runs in is read-only), the line says to pass ``--record``.
    """
    try:
        if os.path.isdir(path):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        parent = os.path.dirname(path)
        made = _outermost_missing(parent)
        if made is not None:
            os.makedirs(parent, exist_ok=True)
    except OSError as exc:
        raise _cannot_claim(path, exc, default) from None
    if not default:
        existed = os.path.lexists(path)
        try:
            with open(path, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise cannot_write(path, exc) from None
        return RecordingTarget(path, created=not existed, made=made)
    for number in range(1, _MAX_NUMBER + 1):
        candidate = numbered(path, number)
        try:
            with open(candidate, "x", encoding="utf-8"):
                pass
        except FileExistsError:
            continue
        except OSError as exc:
            raise _cannot_claim(candidate, exc, default) from None
        return RecordingTarget(candidate, created=True, made=made)
    raise UsageError(
        f'Cannot write the recording "{path}": {_MAX_NUMBER} files of that name exist. '
        "Pass --record FILE."
    )


def _cannot_claim(path: str, exc: OSError, default: bool) -> UsageError:
    """``cannot_write``; for the tool's own default path, with how to write elsewhere."""
    error = cannot_write(path, exc)
    return UsageError(f"{error} Pass --record FILE somewhere you can write.") if default else error


def make_parent(path: str) -> None:
    """Make the missing folders above the file ``path`` (``OSError`` as raised)."""
    parent = os.path.dirname(path)
    if parent and _outermost_missing(parent) is not None:
        os.makedirs(parent, exist_ok=True)


def probe_writable(path: str) -> None:
    """Raise the ``OSError`` that writing the file ``path`` would meet (a folder, a folder
    that cannot be made, no permission), before any work; what the probe made (the file, its
    folders) is removed again, and an existing file is left as it was."""
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    parent = os.path.dirname(path)
    made = _outermost_missing(parent) if parent else None
    created = False
    try:
        if made is not None:
            os.makedirs(parent, exist_ok=True)
        created = not os.path.lexists(path)
        with open(path, "a", encoding="utf-8"):  # appending: an existing file is kept as is
            pass
    finally:
        discard(RecordingTarget(path, created=created, made=made))
        if made is not None and not created:  # the folders alone were made (then it failed)
            _remove_folders(parent, made)


def _remove_folders(directory: str, made: str) -> None:
    """Remove ``directory`` and its parents up to ``made``, while they are empty."""
    with contextlib.suppress(OSError):
        while directory:
            os.rmdir(directory)  # only if empty: OSError otherwise, and the walk ends
            if directory == made:
                break
            directory = os.path.dirname(directory)


def _outermost_missing(directory: str) -> str | None:
    """The outermost of ``directory`` and its parents that does not exist (None: it exists)."""
    missing = None
    while directory and not os.path.lexists(directory):
        missing = directory
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return missing


def discard(target: RecordingTarget) -> None:
    """Remove what ``claim_recording`` created (the file, then its new directories if empty),
    when the load never started."""
    if not target.created:
        return
    with contextlib.suppress(OSError):
        os.unlink(target.path)
        if target.made is not None:
            _remove_folders(os.path.dirname(target.path), target.made)


def watch_writer(recorder: Recorder, on_failure: Callable[[], None] | None = None) -> list[OSError]:
    """The failures of ``recorder``'s file, kept in the list returned (``on_failure()`` is
    called at the first, e.g. to stop the load), instead of being logged; ``close()`` raises
    the same error again at the end."""
    failures: list[OSError] = []

    def failed(exc: OSError) -> None:
        failures.append(exc)
        if on_failure is not None:
            on_failure()

    recorder.on_write_error = failed
    return failures

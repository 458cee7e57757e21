"""An export's file written whole or not at all.

Opened in place, a file is emptied before the first byte of the new export is written: an
export that then fails (a full disk, ``ulimit -f``, a broken recording, Ctrl-C) leaves it cut
short, and a good earlier export at that path is gone. ``whole_file`` writes a temporary file
beside it instead and puts it in the file's place (``os.replace``) only once it is complete.

What is not a regular file is written as it is: a device (``/dev/null``, ``/dev/full``), a FIFO,
a directory (to fail as it would), and the descriptor links ``/dev/stdout``, ``/dev/fd/N`` and
``/proc/.../fd/N``, which lead to a regular file when stdout is redirected to one but stand for
the stream the shell opened.

A file with other names (hard links) is kept, so that every name sees the new export: the
complete temporary file is copied into it and removed (only a full disk during that copy can
cut it short).

SIGTERM and SIGHUP (``timeout``, ``kill``, the terminal closed) end the process at once by
default, which left the temporary file behind: while it exists they unwind the export as
Ctrl-C does, the file is removed, and the signal then ends the process as it would have
(``_deaths_unwound``). SIGKILL cannot be answered: a ``.NAME.xxxxxxxx.tmp`` it leaves is safe
to delete. Imports the standard library only.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager, suppress
from typing import IO, Any

__all__ = ["whole_file"]

_STREAMS = ("/dev/stdin", "/dev/stdout", "/dev/stderr")
"""Paths that stand for the process's own streams."""

_DESCRIPTOR_FOLDERS = ("/dev/fd/", "/proc/")
"""Folders whose entries stand for open descriptors (or are no files at all)."""

_MAX_LINKS = 40
"""Symbolic links followed before a path is written as it is (the kernel's own bound)."""

_NAME_BYTES = 100
"""Bytes of the file's name kept in the temporary one's: the whole stays under NAME_MAX."""

_DEATHS = ("SIGTERM", "SIGHUP")
"""Signals whose default ends the process at once, with no ``finally`` run (SIGINT raises
``KeyboardInterrupt``, which does run them)."""


@contextmanager
def whole_file(path: str) -> Iterator[IO[str]]:
    """``path`` opened for writing text (UTF-8), as ``open(path, "w")`` would, but a regular
    file (or a new one) is only replaced by what was written once the block ends without an
    exception; on any exception (``KeyboardInterrupt`` too) the temporary file is removed and
    the earlier file is left as it was.

    The new file gets the mode a new file gets (0o666 less the umask), a replaced one keeps
    its own mode, and its owner when that can be kept; a symbolic link stays a link, its
    target replaced. A stream's link is appended to, so ``-o /dev/stdout >> log`` keeps what
    the log held. Raises ``OSError`` as ``open`` would.
    """
    target, stream = _followed(path)
    if target is not None:
        # Answered from before the temporary file is made to after it is gone.
        with _deaths_unwound():
            replaced = yield from _written_beside(target)
            if replaced:
                return
    with open(path, "a" if stream else "w", encoding="utf-8") as handle:
        yield handle


def _written_beside(target: str) -> Generator[IO[str], None, bool]:
    """Yield a temporary file beside ``target`` and put it in its place once the caller is
    done (True); on any exception remove it. False, having yielded nothing, when the folder
    may not be added to (``_temporary_beside``)."""
    made: tuple[int, str] | None = None
    taken = False  # whether ``open`` owns the descriptor: closed then, its number reused
    try:
        # No signal is answered between the file's making and ``made``, from which it is
        # removed: one answered there (the instant a watcher sees the file appear) left it.
        mask = _mask()
        try:
            _mask(_stopping())
            made = _temporary_beside(target)
        finally:
            _mask(mask, how="set")  # one held meanwhile is answered here: ``made`` is set
        if made is None:
            return False
        _keep_owner_and_mode(made[0], target)
        with open(made[0], "w", encoding="utf-8") as handle:
            taken = True
            yield handle
        if _other_names(target):
            _copied_into(made[1], target)
            os.unlink(made[1])
        else:
            os.replace(made[1], target)
    except BaseException:
        if made is not None:
            if not taken:
                with suppress(OSError):  # ``open`` closes it when it fails part-way
                    os.close(made[0])
            with suppress(OSError):
                os.unlink(made[1])
        raise
    return True


def _stopping() -> set[int]:
    """The signals that stop an export: Ctrl-C and ``_DEATHS``."""
    return {getattr(signal, name) for name in ("SIGINT", *_DEATHS) if hasattr(signal, name)}


def _mask(signals: Any = (), how: str = "block") -> Any:
    """Add ``signals`` to the main thread's blocked ones (``how="set"``: make them the
    blocked ones); the blocked ones before. Nothing where signals cannot be blocked (off the
    main thread, which alone answers them, or on Windows): None then."""
    if not hasattr(signal, "pthread_sigmask") or signals is None:
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.pthread_sigmask(signal.SIG_SETMASK if how == "set" else signal.SIG_BLOCK, signals)


class _Ended(BaseException):
    """A signal that ends the process came while the temporary file existed: it unwinds the
    export as ``KeyboardInterrupt`` does (no ``Exception``, which an ``except`` would take)."""


class _Unwinding:
    """The handler of ``_DEATHS`` inside ``_deaths_unwound``: the first signal raises
    ``_Ended``; the others (GNU timeout sends SIGTERM to ``trace`` and then to its group), and
    one after ``disarm``, are only noted, so that none interrupts the temporary file's
    removal or the handlers' return."""

    def __init__(self) -> None:
        self.signum: int | None = None
        """The first signal received."""
        self._armed = True

    def __call__(self, signum: int, frame: Any) -> None:
        if self.signum is None:
            self.signum = signum
        if self._armed:
            self._armed = False
            raise _Ended(signum)

    def disarm(self) -> None:
        """From here on a signal is only noted."""
        self._armed = False


@contextmanager
def _deaths_unwound() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP, where their default would end the process at once,
    raise ``_Ended`` instead, so that the ``finally`` blocks run; on the way out, one received
    ends the process as its default would have (killed by that signal: the exit status a
    parent or a shell sees is unchanged). A handler of the caller's (``nohup``'s ignored
    SIGHUP, a program's own) is left alone, and so is every signal off the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    unwinding = _Unwinding()
    previous: dict[int, Any] = {}
    for name in _DEATHS:
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) == signal.SIG_DFL:
            previous[signum] = signal.signal(signum, unwinding)
    try:
        yield
    finally:
        unwinding.disarm()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if unwinding.signum is not None:
            os.kill(os.getpid(), unwinding.signum)  # the default again: the process ends here


def _followed(path: str) -> tuple[str | None, bool]:
    """The regular file (existing or not) that ``path`` leads to through its links, to be
    replaced, or None for what is written as it is: a stream's link, a device, a FIFO, a
    directory, a file we may not write (``open`` then says why), too many links. And whether
    ``path`` stands for an open stream (``_STREAMS``, ``_DESCRIPTOR_FOLDERS``)."""
    target = os.path.abspath(path)
    for _ in range(_MAX_LINKS):
        if target in _STREAMS or target.startswith(_DESCRIPTOR_FOLDERS):
            return None, True
        if not os.path.islink(target):
            break
        target = os.path.normpath(os.path.join(os.path.dirname(target), os.readlink(target)))
    else:
        return None, False
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target, False
    except OSError:
        return None, False
    if not stat.S_ISREG(mode) or not os.access(target, os.W_OK):
        return None, False
    return target, False


def _temporary_beside(target: str) -> tuple[int, str] | None:
    """A new file in ``target``'s folder, hidden and named after it, created as ``open``
    creates one (mode 0o666 less the umask): its descriptor and path. None when the folder
    may not be added to but ``target`` exists and may be written: it is then written in
    place, as it was before (``open`` says why a new file cannot be made)."""
    folder, name = os.path.split(target)
    short = os.fsdecode(os.fsencode(name)[:_NAME_BYTES])
    while True:
        temporary = os.path.join(folder, f".{short}.{os.urandom(4).hex()}.tmp")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except PermissionError:
            if os.path.exists(target):
                return None
            raise
        return fd, temporary


def _other_names(target: str) -> bool:
    """Whether ``target`` has hard links (another name for the same file): put in its place,
    the new file would leave them with the earlier export."""
    try:
        return os.stat(target).st_nlink > 1
    except OSError:
        return False


def _copied_into(complete: str, target: str) -> None:
    """Write the complete export over ``target`` in place, keeping the file, and so every
    name it has (as editors write a file with hard links). Only this copy, not the export,
    can now be cut short (by a full disk); the export's own failures came before it."""
    with open(complete, "rb") as source, open(target, "r+b") as file:
        file.truncate(0)
        shutil.copyfileobj(source, file, 1 << 20)


def _keep_owner_and_mode(fd: int, target: str) -> None:
    """Give the new file the owner (when we may) and the mode of the file it replaces, as
    writing that file in place kept them; a new file keeps the umask's mode."""
    try:
        earlier = os.stat(target)
    except FileNotFoundError:
        return
    if hasattr(os, "fchown") and (earlier.st_uid, earlier.st_gid) != (os.getuid(), os.getgid()):
        with suppress(OSError):
            os.fchown(fd, earlier.st_uid, earlier.st_gid)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, stat.S_IMODE(earlier.st_mode))

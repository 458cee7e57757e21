"""An export's file written whole or not at all.

Opened in place, a file is emptied before the first byte of the new export is written: an
export that then fails (a full disk, ``ulimit -f``, a broken recording, Ctrl-C) leaves it cut
short, and a good earlier export at that path is gone. ``whole_file`` writes a temporary file
beside it instead and puts it in the file's place (``os.replace``) only once it is complete.

What is not a regular file is written as it is: a device (``/dev/null``, ``/dev/full``), a FIFO,
a directory (to fail as it would), and the descriptor links ``/dev/stdout``, ``/dev/fd/N`` and
``/proc/.../fd/N``, which lead to a regular file when stdout is redirected to one but stand for
the stream the shell opened. Imports the standard library only.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO

__all__ = ["whole_file"]

_STREAMS = ("/dev/stdin", "/dev/stdout", "/dev/stderr")
"""Paths that stand for the process's own streams."""

_DESCRIPTOR_FOLDERS = ("/dev/fd/", "/proc/")
"""Folders whose entries stand for open descriptors (or are no files at all)."""

_MAX_LINKS = 40
"""Symbolic links followed before a path is written as it is (the kernel's own bound)."""

_NAME_BYTES = 100
"""Bytes of the file's name kept in the temporary one's: the whole stays under NAME_MAX."""


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
    made = None if target is None else _temporary_beside(target)
    if target is None or made is None:
        with open(path, "a" if stream else "w", encoding="utf-8") as handle:
            yield handle
        return
    fd, temporary = made
    taken = False  # whether ``open`` owns ``fd``: it is closed then, and its number reused
    try:
        _keep_owner_and_mode(fd, target)
        with open(fd, "w", encoding="utf-8") as handle:
            taken = True
            yield handle
        os.replace(temporary, target)
    except BaseException:
        if not taken:
            os.close(fd)
        with suppress(OSError):
            os.unlink(temporary)
        raise


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

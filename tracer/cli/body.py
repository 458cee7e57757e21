"""``trace run --body-file F``: the request body read from a file, bounded.

Every request sends the same bytes, held in memory once for the whole run; a file past
``MAX_BODY_BYTES`` (a disk image, ``/dev/zero``) is refused in one line rather than read until
memory runs out. A pipe (``--body-file <(make_body)``) is read as far as the bound; a device or
a socket, which may never end, is refused as ``trace sim --workload`` refuses it.
"""

from __future__ import annotations

import os
import stat

from tracer.errors import UsageError

__all__ = ["MAX_BODY_BYTES", "read_body_file"]

MAX_BODY_BYTES = 64 << 20
"""The largest ``--body-file`` (64 MiB): far past any body a load test sends, and well within
memory; the in-process models hand the app 64 KiB messages of it, real servers get it whole."""


def read_body_file(path: str) -> bytes:
    """The bytes of ``path``; ``UsageError`` (one line) for a file that cannot be read, is
    not a regular file or a pipe, or holds more than ``MAX_BODY_BYTES``."""
    try:
        status = os.stat(path)
        if stat.S_ISDIR(status.st_mode):
            raise UsageError(f'--body-file "{path}" is a folder, not a file.')
        if not (stat.S_ISREG(status.st_mode) or stat.S_ISFIFO(status.st_mode)):
            raise UsageError(
                f'--body-file "{path}" is not a regular file; give a file of at most 64 MiB '
                "(or -d BODY)."
            )
        with open(path, "rb") as handle:
            body = handle.read(MAX_BODY_BYTES + 1)  # bounded: the file may grow after the stat
    except OSError as exc:
        raise UsageError(f'Cannot read --body-file "{path}": {exc.strerror or exc}.') from None
    if len(body) > MAX_BODY_BYTES:
        size = f" ({status.st_size:,} bytes)" if status.st_size > MAX_BODY_BYTES else ""
        raise UsageError(
            f'--body-file "{path}" is larger than a request body may be here{size}: '
            "give a file of at most 64 MiB."
        )
    return body

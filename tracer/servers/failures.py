"""One line saying why a server process could not get to serving the app.

A worker (``--server processes``, or a real server's process through the bootstrap) loads the
app, then wraps it with the shim. What fails there is said with where it was raised
(``file:line``, the innermost frame), since the cause is often not where the exception's name
points: an app that lowers the recursion limit at import (``sys.setrecursionlimit(60)``) makes
the worker's own next steps fail with ``RecursionError``; the line then says the app lowered
it, from what to what. Imports nothing of ours.
"""

from __future__ import annotations

import signal
import sys
import traceback

__all__ = ["describe_failure", "killed_by", "raised_at"]


def killed_by(signum: int) -> str:
    """``was killed by signal 11 (SIGSEGV)``: how a process that died of a signal ended, in
    the same words for a real server, its workers and ``--server processes``' workers."""
    try:
        name = f" ({signal.Signals(signum).name})"
    except ValueError:
        name = ""
    return f"was killed by signal {signum}{name}"


def raised_at(exc: BaseException) -> str | None:
    """``file:line`` of the innermost frame ``exc`` went through (None without a traceback)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return None
    last = frames[-1]
    return f"{last.filename}:{last.lineno}"


def describe_failure(exc: BaseException, *, recursion_limit: int) -> str:
    """``Name: message (at file:line)``; for a ``RecursionError`` while the recursion limit is
    below ``recursion_limit`` (what it was before the app was imported), first the line that
    the app lowered it."""
    where = raised_at(exc)
    text = f"{type(exc).__name__}: {exc}" + (f" (at {where})" if where else "")
    now = sys.getrecursionlimit()
    if isinstance(exc, RecursionError) and now < recursion_limit:
        return (
            f"the app lowered the recursion limit from {recursion_limit} to {now} "
            f"(sys.setrecursionlimit) and the worker then failed with {text}"
        )
    return text

"""Where each server process's ASGI lifespan stands, as marks in the run's folder.

A server binds its port (gunicorn's master, a uvicorn or hypercorn supervisor, granian) before
its workers have run the app's lifespan startup, and the app is loaded before the startup runs:
neither an open port nor a loaded app says the app is ready. In each server process,
``watch_lifespan`` sits in front of the app on the lifespan scope and drops, per pid:

- ``<pid>.started``: the startup is over and the app serves: it sent
  ``lifespan.startup.complete``, or its lifespan call ended without a failure (an app without
  lifespan support raises on the scope or returns; the servers then serve it without);
- ``<pid>.startfail``: it sent ``lifespan.startup.failed``; the mark holds the app's message;
- ``<pid>.stopping`` / ``<pid>.stopped``: it received ``lifespan.shutdown`` / answered it (or
  its lifespan call ended).

The parent (``harness``) reads them: ``started`` for readiness, ``startup_failure`` for the app's
own words when it refused to start, ``shutdown_unanswered`` to name the lifespan shutdown when a
stop had to kill. Imports nothing of ours.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

__all__ = [
    "MESSAGE_LIMIT",
    "started",
    "startup_failure",
    "shutdown_unanswered",
    "watch_lifespan",
]

MESSAGE_LIMIT = 300
"""Characters of the app's ``lifespan.startup.failed`` message kept in its mark."""

_STARTED = ".started"
_STARTFAIL = ".startfail"
_STOPPING = ".stopping"
_STOPPED = ".stopped"


def _mark(directory: Path, suffix: str, text: str = "") -> None:
    # The pid at the time of writing: a server forking after it loaded the app (gunicorn's
    # --preload) has its workers, not the master, run the lifespan.
    with contextlib.suppress(OSError):
        (directory / f"{os.getpid()}{suffix}").write_text(text)


async def watch_lifespan(
    app: Callable[..., Awaitable[Any]],
    directory: Path,
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[Any]],
    send: Callable[[Any], Awaitable[Any]],
) -> None:
    """Run ``app`` on the lifespan ``scope``, leaving the marks of where its lifespan stands."""
    state = {"started": False, "stopping": False, "stopped": False}

    async def receiving() -> Any:
        message = await receive()
        if isinstance(message, dict) and message.get("type") == "lifespan.shutdown":
            state["stopping"] = True
            _mark(directory, _STOPPING)
        return message

    async def sending(message: Any) -> Any:
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "lifespan.startup.failed" and not state["started"]:
            # Before the server's send: hypercorn's raises on this message.
            state["started"] = True
            text = message.get("message")
            text = " ".join(text.split())[:MESSAGE_LIMIT] if isinstance(text, str) else ""
            _mark(directory, _STARTFAIL, text)
        result = await send(message)
        if kind == "lifespan.startup.complete" and not state["started"]:
            state["started"] = True
            _mark(directory, _STARTED)
        elif kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            state["stopped"] = True
            _mark(directory, _STOPPED)
        return result

    try:
        await app(scope, receiving, sending)
    finally:
        # Ended (returned or raised) without a word: served without lifespan, as the servers
        # do with an app that does not support it; a shutdown it was on is over.
        if not state["started"]:
            _mark(directory, _STARTED)
        if state["stopping"] and not state["stopped"]:
            _mark(directory, _STOPPED)


def _pids(directory: str, suffix: str) -> set[int]:
    try:
        names = os.listdir(directory)
    except OSError:
        return set()
    pids = set()
    for name in names:
        stem, dot, rest = name.partition(".")
        if dot and f".{rest}" == suffix and stem.isdigit():
            pids.add(int(stem))
    return pids


def started(directory: str) -> set[int]:
    """The server processes whose app's lifespan startup is over (they serve)."""
    return _pids(directory, _STARTED)


def startup_failure(directory: str) -> str | None:
    """The app's message when a server process's app sent ``lifespan.startup.failed`` ("" when
    it gave none); None when none did."""
    for pid in sorted(_pids(directory, _STARTFAIL)):
        with contextlib.suppress(OSError):
            return (Path(directory) / f"{pid}{_STARTFAIL}").read_text().strip()
    return None


def shutdown_unanswered(directory: str) -> set[int]:
    """The server processes whose app received ``lifespan.shutdown`` and had not answered it."""
    return _pids(directory, _STOPPING) - _pids(directory, _STOPPED)

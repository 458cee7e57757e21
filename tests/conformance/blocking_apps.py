"""ASGI apps that block the event loop in a handler, for ``trace check --timeout``."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from check_apps import lifespan_done


async def sleeps_3s(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Every http request holds the loop for 3 s (a blocking call in an async handler)."""
    if scope["type"] == "lifespan":
        await lifespan_done(receive, send)
        return
    if scope["type"] != "http":
        return
    time.sleep(3)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def sleeps_briefly(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Holds the loop a little past the timeout, then answers: the loop comes back."""
    if scope["type"] == "lifespan":
        await lifespan_done(receive, send)
        return
    if scope["type"] != "http":
        return
    time.sleep(0.3)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def blocks_at_startup(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Lifespan startup holds the loop for 3 s; http would be fine."""
    if scope["type"] == "lifespan":
        await receive()
        time.sleep(3)
        await send({"type": "lifespan.startup.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


RELEASED = threading.Event()
"""Set by a test once its check is over: ``ignores_cancellation`` returns then."""


async def ignores_cancellation(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Never answers, and swallows every cancellation: the loop stays free, the task does not
    end until the test sets ``RELEASED``. The check closes its loop only once every task has
    ended; one that never did would keep that loop, its thread and the shim's loop watchdog
    going for the rest of the test session."""
    if scope["type"] != "http":
        return
    while not RELEASED.is_set():
        try:
            await asyncio.sleep(0.02)
        except asyncio.CancelledError:
            continue


RAN_ON: list[threading.Thread] = []
"""The threads ``never_ends`` ran on (the check's loop thread)."""


async def never_ends(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Never answers, and swallows every cancellation for ever: the check gives its task up."""
    if scope["type"] != "http":
        return
    RAN_ON.append(threading.current_thread())
    while True:
        try:
            await asyncio.sleep(0.02)
        except asyncio.CancelledError:
            continue

"""Where a late ``send`` is located: the app's frame, never the event loop's or the server's.

A ``send`` kept past its request and awaited later gets an ``ASGI-003`` whose ``location`` is
the app's line that awaited it. The frames above that line are the task's scheduler
(``asyncio/events.py``) and, above the loop, whoever runs it (a server in site-packages, here
anyio's ``run``): neither made the call. A ``send(...)`` coroutine handed to the loop as a task
of its own (``run_coroutine_threadsafe`` from a thread) has no app frame above it at all: no
``location``, and the message says why.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import anyio

from tracer import events as K
from tracer.conformance import RULES
from tracer.conformance.base import format_site
from tracer.recorder import Recorder
from tracer.shim.asgi import AsgiShim

START = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"x")]}
BODY = {"type": "http.response.body", "body": b"ok"}
LATE = {"type": "http.response.body", "body": b"late"}
SCOPE = {"type": "http", "method": "GET", "path": "/", "headers": []}


def line_of(marker: str) -> str:
    """``file:line`` (as a recording names it) of the line of this file ending in ``# marker``."""
    lines = Path(__file__).read_text(encoding="utf-8").splitlines()
    [number] = [n for n, text in enumerate(lines, 1) if text.endswith(f"# {marker}")]
    return format_site((__file__, number))


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def serve_then(late: Any) -> list[dict[str, Any]]:
    """Serve one request of an app that keeps its ``send``, under ``anyio.run`` (a loop run
    from site-packages, as uvicorn runs one); then ``late(send, loop)`` sends after the end.
    The violations recorded, as their data."""
    recorder = Recorder()
    kept: dict[str, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        kept["send"] = send
        await send(START)
        await send(BODY)

    async def server_send(message: Any) -> None:
        pass

    async def main() -> None:
        await AsgiShim(app, recorder=recorder)(dict(SCOPE), receive, server_send)
        await late(kept["send"], asyncio.get_running_loop())

    anyio.run(main)
    return [e.data for e in recorder.events if e.kind == K.VIOLATION]


def test_a_late_send_awaited_by_a_task_names_the_app_line() -> None:
    """A task left behind awaits the kept send: the location is that line, not anyio's run
    (a library frame above the loop) nor asyncio's (the standard library's)."""

    async def late(send: Any, loop: asyncio.AbstractEventLoop) -> None:
        async def left_behind() -> None:
            await send(LATE)  # awaited by a task

        await asyncio.ensure_future(left_behind())

    [violation] = serve_then(late)
    assert violation["rule"] == "ASGI-003"
    assert violation["location"] == line_of("awaited by a task")


def test_a_late_send_run_as_a_task_of_its_own_has_no_location() -> None:
    """A thread hands ``send(...)`` to the loop (``run_coroutine_threadsafe``): only the loop
    and the server are above it, so no location (it was ``asyncio/events.py``), and the
    message says the loop ran it on its own."""

    async def late(send: Any, loop: asyncio.AbstractEventLoop) -> None:
        done: list[Any] = []
        thread = threading.Thread(
            target=lambda: done.append(asyncio.run_coroutine_threadsafe(send(LATE), loop))
        )
        thread.start()
        await asyncio.to_thread(thread.join)
        await asyncio.wrap_future(done[0])

    [violation] = serve_then(late)
    rule = RULES["ASGI-003"]
    assert violation == {
        "rule": "ASGI-003",
        "message": f"{rule.message}: send() of http.response.body, "
        "run by the event loop as a task of its own",
        "severity": "error",
        "hint": rule.hint,
    }

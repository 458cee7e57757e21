"""Apps and a hand driver shared by the ASGI shim's tests on trio (and the same on asyncio).

trio is imported where it is used: the asyncio and uvloop tests use this module without it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from importlib.metadata import requires
from typing import Any

from packaging.requirements import Requirement
from packaging.version import Version

from tracer.events import Event

HTTP_SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0", "spec_version": "2.3"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/",
    "raw_path": b"/",
    "query_string": b"",
    "root_path": "",
    "headers": [(b"host", b"testserver")],
    "client": ("127.0.0.1", 50000),
    "server": ("127.0.0.1", 80),
}


def anyio_runs_on_trio() -> bool:
    """Whether the installed anyio's trio backend accepts the installed trio (its ``trio``
    extra names the trio it needs: an older one fails in ``anyio.to_thread``)."""
    import trio

    for text in requires("anyio") or ():
        requirement = Requirement(text)
        if requirement.name == "trio" and requirement.marker is not None:
            if requirement.marker.evaluate({"extra": "trio"}):
                return Version(trio.__version__) in requirement.specifier
    return True


def scope(path: str = "/") -> dict[str, Any]:
    """A fresh HTTP GET scope for ``path``."""
    return {**HTTP_SCOPE, "path": path, "raw_path": path.encode()}


def on_trio(app: Any, path: str = "/") -> list[dict[str, Any]]:
    """Run ``app`` for one GET on a fresh ``trio.run``; the messages it sent."""
    import trio

    return trio.run(_drive, app, path, trio.sleep_forever)


def on_asyncio(app: Any, path: str = "/", run: Callable[..., Any] = asyncio.run) -> list[Any]:
    """The same on a fresh asyncio loop (``run``: ``asyncio.run`` or ``uvloop.run``)."""

    async def forever() -> None:
        await asyncio.sleep(3600)

    return list(run(_drive(app, path, forever)))


async def _drive(app: Any, path: str, forever: Callable[[], Any]) -> list[dict[str, Any]]:
    """A server's part for one request: the body at once, then nothing (no disconnect)."""
    sent: list[dict[str, Any]] = []
    given = False

    async def receive() -> dict[str, Any]:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope(path), receive, send)
    return sent


def shape(events: list[Event]) -> list[tuple[str, dict[str, Any]]]:
    """Kinds and data of ``events`` without what differs from run to run (times, CPU)."""
    return [
        (e.kind, {k: v for k, v in e.data.items() if k not in ("cpu_ns", "client")}) for e in events
    ]


# -- raw ASGI apps ------------------------------------------------------------------------------


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the request, answers 200 "hi" in one body message."""
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hi"})


async def sleeps_on_trio(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the request, then sleeps for long on trio (cancelled by the test)."""
    import trio

    await receive()
    await trio.sleep(10)


async def sleeps_in_a_nursery(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the request, then waits on a child task that sleeps for long (cancelled)."""
    import trio

    await receive()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.sleep, 10)


async def blocks_on_trio(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``time.sleep`` inside ``async def`` on trio: the loop is held for 60 ms."""
    await receive()
    time.sleep(0.06)  # BLOCKS
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"late"})


async def blocks_in_a_child(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers from a child task of a nursery that holds the loop with ``time.sleep``."""
    import trio

    await receive()

    async def child() -> None:
        await trio.sleep(0)
        time.sleep(0.06)  # CHILD BLOCKS
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async with trio.open_nursery() as nursery:
        nursery.start_soon(child, name="child")
    await send({"type": "http.response.body", "body": b"done"})

"""Apps and drivers shared by the ASGI shim tests: raw ASGI apps, a FastAPI app, helpers."""

from __future__ import annotations

import asyncio
import contextvars
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from tracer.events import Event
from tracer.recorder import Recorder
from tracer.shim.asgi import AsgiShim

HERE = Path(__file__)


def line_of(marker: str) -> int:
    """The line number in this file of the line ending with ``# <marker>``."""
    for number, line in enumerate(HERE.read_text(encoding="utf-8").splitlines(), 1):
        if line.rstrip().endswith(f"# {marker}"):
            return number
    raise LookupError(marker)


async def cancellable_sleep(seen: list[str]) -> None:
    """Sleeps for long; notes in ``seen`` that it was cancelled (and lets it go on)."""
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        seen.append("cancelled")
        raise


def traced(app: Any, **options: Any) -> tuple[AsgiShim, Recorder]:
    """``app`` wrapped by a shim recording into a fresh in-memory recorder."""
    recorder = Recorder()
    return AsgiShim(app, recorder=recorder, **options), recorder


def kinds(events: list[Event]) -> list[str]:
    """The kinds of ``events``, in order."""
    return [event.kind for event in events]


def of(events: list[Event], req: int | None = None, kind: str | None = None) -> list[Event]:
    """The events of request ``req`` (any when None) and kind ``kind`` (any when None)."""
    return [e for e in events if (req is None or e.req == req) and (kind is None or e.kind == kind)]


def timeline(recorder: Recorder) -> list[Event]:
    """The recorder's events in recording-time order, as a reader sees them."""
    return recorder.recording().events


async def fetch(app: Any, *paths: str, **kwargs: Any) -> list[httpx.Response]:
    """GET every path concurrently through httpx's ASGITransport."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return list(await asyncio.gather(*(client.get(path, **kwargs) for path in paths)))


def get(app: Any, path: str = "/", **kwargs: Any) -> httpx.Response:
    """One GET through httpx's ASGITransport on a fresh event loop."""
    return asyncio.run(fetch(app, path, **kwargs))[0]


# -- raw ASGI apps --------------------------------------------------------------------------


async def chunked_echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole request body, answers it back in one chunk per received chunk."""
    chunks = []
    while True:
        message = await receive()  # RECEIVES
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    await send({"type": "http.response.start", "status": 201, "headers": []})
    for i, chunk in enumerate(chunks):
        more = i < len(chunks) - 1
        await send({"type": "http.response.body", "body": chunk, "more_body": more})


async def websocket_echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Accepts, echoes every text/bytes message, ends on disconnect."""
    assert scope["type"] == "websocket"
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.receive":
            if message.get("text") is not None:
                await send({"type": "websocket.send", "text": message["text"]})
            else:
                await send({"type": "websocket.send", "bytes": message["bytes"]})
        elif message["type"] == "websocket.disconnect":
            return


async def sleepy(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Waits 50 ms on the loop (asyncio.sleep), then answers 200."""
    await asyncio.sleep(0.05)  # SLEEPS
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"slept"})


async def blocker(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Blocks the event loop for 60 ms with time.sleep inside async def, then answers."""
    time.sleep(0.06)  # BLOCKS
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"blocked"})


class Boom(Exception):
    """The app's own exception type."""


BOOM = Boom("it broke")


async def raiser(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Raises the module's ``BOOM`` object before answering."""
    raise BOOM  # RAISES


class Asgi2Hello:
    """An ASGI 2 (double callable) app: instance per scope, then awaited with receive/send."""

    def __init__(self, scope: dict[str, Any]) -> None:
        self.scope = scope

    async def __call__(self, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"asgi2"})


USER: contextvars.ContextVar[str | None] = contextvars.ContextVar("user", default=None)


async def sets_context(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Sets a context variable the caller can read afterwards, then answers."""
    USER.set("alice")
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


# -- a FastAPI app --------------------------------------------------------------------------

api = FastAPI()


@api.get("/async-sleep")
async def async_sleep() -> dict[str, str]:
    """Suspends on asyncio.sleep."""
    await asyncio.sleep(0.05)  # API_SLEEPS
    return {"slept": "yes"}


@api.get("/block")
async def block() -> dict[str, str]:
    """time.sleep inside async def: holds the event loop."""
    time.sleep(0.06)  # API_BLOCKS
    return {"blocked": "yes"}


@api.get("/sync")
def sync_endpoint() -> dict[str, Any]:
    """A def endpoint: FastAPI runs it in anyio's thread pool."""
    return {"sum": sum(range(1000)), "thread": "worker"}


@api.get("/items/{item}")
async def item(item: int, q: str = "") -> dict[str, Any]:
    """Echoes its parameters."""
    return {"item": item, "q": q}


@api.get("/fail")
async def fail() -> None:
    """Raises the module's BOOM object."""
    raise BOOM


# -- a bare driver, as a server would call the app ------------------------------------------


def http_scope(path: str = "/", **extra: Any) -> dict[str, Any]:
    """A minimal HTTP/1.1 GET scope for ``path``."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    scope.update(extra)
    return scope


async def call(app: Any, path: str = "/", **extra: Any) -> list[dict[str, Any]]:
    """Run ``app`` for one GET of ``path`` with an empty body; return what it sent."""
    sent: list[dict[str, Any]] = []
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # a client that never disconnects
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(http_scope(path, **extra), receive, send)
    return sent


async def until(condition: Any, bound: int = 10_000) -> None:
    """Let the loop run until ``condition()`` holds (at most ``bound`` loop iterations)."""
    for _ in range(bound):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


async def sends_a_number(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Sends what is not a message: the server's send fails on it."""
    await send(42)  # SENDS_NUMBER


async def fails_deep() -> None:
    """An awaited helper that suspends once, then raises."""
    await asyncio.sleep(0)
    raise ValueError("deep")  # FAILS_DEEP


async def awaits_a_failing_helper(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Awaits ``fails_deep``: the error is placed in the helper, not in the app or the shim."""
    await fails_deep()

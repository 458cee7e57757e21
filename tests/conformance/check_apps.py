"""Small apps that break the protocol in known ways, for ``trace check`` and driver tests."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any


def wsgi_bad(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Malformed status, a hop-by-hop header, a Content-Length that lies, no Content-Type."""
    start_response("200", [("Content-Length", "2"), ("Connection", "close")])
    return [b"hello"]


def wsgi_untyped(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Only a warning: no Content-Type."""
    start_response("200 OK", [])
    return [b"hello"]


def wsgi_reads_past(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Reads wsgi.input to the end, past CONTENT_LENGTH."""
    data = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(len(data)).encode()]


async def asgi_bad(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Breaks a rule on each scope: lifespan, websocket and http."""
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed"})
        return
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.send", "text": "hi"})
        return
    await send({"type": "http.response.body", "body": b"x"})


async def asgi_hangs(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Never answers an http request."""
    if scope["type"] != "http":
        raise RuntimeError("http only")
    await asyncio.Event().wait()


async def asgi_http_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Ignores every scope but http (the websocket and lifespan probes are skipped); its
    status is a str."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": "200", "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def lifespan_done(receive: Any, send: Any) -> None:
    """A lifespan done right: each phase answered as complete."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        else:
            await send({"type": "lifespan.shutdown.complete"})
            return


async def asgi_raises_cancelled(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Lifespan done right; every http request raises CancelledError itself, at once."""
    if scope["type"] == "lifespan":
        await lifespan_done(receive, send)
        return
    raise asyncio.CancelledError("by the app")  # raised


async def asgi_lifespan_hangs(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Takes lifespan.startup and never answers it; http is answered."""
    if scope["type"] == "lifespan":
        await receive()
        await asyncio.Event().wait()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def asgi_shutdown_hangs(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers lifespan.startup, takes lifespan.shutdown and never answers it."""
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await asyncio.Event().wait()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def not_an_app() -> None:
    """Takes no arguments: neither WSGI nor ASGI."""


async def asgi_http_bad(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Lifespan done right; every http response sends its body before its start."""
    if scope["type"] == "lifespan":
        await lifespan_done(receive, send)
        return
    await send({"type": "http.response.body", "body": b"", "more_body": True})
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def wsgi_str_body(environ: dict[str, Any], start_response: Any) -> list[Any]:
    """A list holding a str: the server, not this function, is on the stack when it is seen."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return ["text"]


def wsgi_not_iterable(environ: dict[str, Any], start_response: Any) -> Any:
    """Returns a number: every request raises TypeError when the body is iterated."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return 42


def wsgi_yields_str(environ: dict[str, Any], start_response: Any) -> Any:
    """A generator that yields a str after bytes: WSGI-014 is located at that yield."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"ok"
    yield "str"  # WSGI-014


def wsgi_length_lies(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Declares Content-Length 2, sends 5 bytes: WSGI-019 is located at the start_response."""
    headers = [("Content-Type", "text/plain"), ("Content-Length", "2")]
    start_response("200 OK", headers)  # WSGI-019
    return [b"hello"]


def line_of(function: Any, marker: str) -> int:
    """The line of ``function``'s source that ends with the comment ``# marker``."""
    lines, first = inspect.getsourcelines(function)
    (found,) = [first + i for i, line in enumerate(lines) if line.rstrip().endswith(f"# {marker}")]
    return found

"""Apps that raise in every request, or in some: ``trace check`` must not pass the first."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def wsgi_boom(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """Raises in every request."""
    raise RuntimeError("boom")


def wsgi_ok(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """A correct WSGI app (run as ASGI, every request raises a TypeError)."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def wsgi_post_boom(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """Raises on POST only (the probe's body is not what it wants): GET is answered."""
    if environ["REQUEST_METHOD"] == "POST":
        raise ValueError("not the JSON it wants")
    return wsgi_ok(environ, start_response)


async def asgi_boom_with_lifespan(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Starts up fine, then raises in every request."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    raise RuntimeError("boom")

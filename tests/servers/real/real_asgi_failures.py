"""An ASGI app that fails before and after starting its response, one path each (served by the
real-server tests from this folder)."""

from __future__ import annotations

from typing import Any

__all__ = ["app"]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``/before``: raises before ``http.response.start``; ``/after-start``: raises after it,
    before any body."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["path"] == "/after-start":
        headers = [(b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
    raise RuntimeError(f"at {scope['path']}")

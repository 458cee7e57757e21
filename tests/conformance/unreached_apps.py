"""Apps for the checks whose probes of ``/`` never reach a view, and ASGI 2 look-alikes."""

from __future__ import annotations

from typing import Any


async def asgi_not_found(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app with no view at ``/``: 404 to HTTP, a refused websocket, lifespan kept."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.close", "code": 1000})
        return
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b"not found"})


def wsgi_not_allowed(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A WSGI app that allows no method at ``/``: 405."""
    start_response("405 Method Not Allowed", [("Content-Type", "text/plain")])
    return [b"no"]


async def asgi_ok(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app with a view everywhere."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


class FrameworkApp:
    """A framework's app class: its instances are ASGI 3 apps; the class itself is not."""

    def __init__(self, routes: list[Any] | None = None) -> None:
        self.routes = routes or []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await asgi_ok(scope, receive, send)


class Asgi2App:
    """A real ASGI 2 app: made with the scope, then awaited with receive and send."""

    def __init__(self, scope: dict[str, Any]) -> None:
        self.scope = scope

    async def __call__(self, receive: Any, send: Any) -> None:
        if self.scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})


def view(request: Any) -> Any:
    """A framework's view: one argument, a request, not an app."""
    raise RuntimeError("settings are not configured")

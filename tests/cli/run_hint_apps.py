"""Apps for ``trace run``'s note on an APP taken for ASGI 2 that may not be an app."""

from __future__ import annotations

from typing import Any


async def asgi_ok(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI 3 app: no note."""
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


def view(request: Any) -> Any:
    """A view (Django's form): taken for ASGI 2, called with the scope as its request."""
    return request


class Asgi2App:
    """A real ASGI 2 app: made with the scope, then awaited with receive and send; no note."""

    def __init__(self, scope: dict[str, Any]) -> None:
        self.scope = scope

    async def __call__(self, receive: Any, send: Any) -> None:
        if self.scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

"""The two seed examples: the smallest WSGI and ASGI apps that say hello.

``trace run`` with no APP runs ``sample_apps.hello:asgi_app``.
"""

from __future__ import annotations

from typing import Any


def application(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """WSGI: 200, text/plain, "Hello, World!"."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello, World!"]


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """ASGI: ``http.response.start`` (200, text/plain) then ``http.response.body``."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": b"Hello, World!"})


wsgi_app = application

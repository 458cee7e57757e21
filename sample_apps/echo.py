"""Request-body echo: the response body is the request body (``POST`` with ``-d`` or a file).

WSGI reads ``wsgi.input`` in 64 KiB reads; ASGI gathers the ``http.request`` messages.
"""

from __future__ import annotations

from typing import Any

__all__ = ["wsgi_app", "asgi_app", "app"]


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """WSGI: read ``CONTENT_LENGTH`` bytes from ``wsgi.input`` and send them back."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ["wsgi.input"]
    parts = []
    while length > 0:
        part = stream.read(min(length, 65536))
        if not part:
            break
        parts.append(part)
        length -= len(part)
    body = b"".join(parts)
    start_response(
        "200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))]
    )
    return [body]


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """ASGI: receive every ``http.request`` chunk and send the body back."""
    if scope["type"] != "http":
        return
    parts = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return  # the client left
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(parts)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/octet-stream"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


app = asgi_app

"""Streaming responses: 5 chunks (``?chunks=N``), 10 ms apart (``?ms=N``).

WSGI yields from a generator; ASGI sends ``http.response.body`` with ``more_body=True``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

from sample_apps._params import query_number

__all__ = ["wsgi_app", "asgi_app", "app"]


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    """WSGI: a generator of ``chunks`` lines, sleeping ``ms`` between them."""
    query = environ.get("QUERY_STRING", "")
    chunks, ms = int(query_number(query, "chunks", 5)), query_number(query, "ms", 10)
    start_response("200 OK", [("Content-Type", "text/plain")])
    for i in range(chunks):
        if i:
            time.sleep(ms / 1000)
        yield f"chunk {i}\n".encode()


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """ASGI: ``chunks`` body messages, ``asyncio.sleep(ms)`` between them."""
    if scope["type"] != "http":
        return
    query = scope.get("query_string", b"")
    chunks, ms = int(query_number(query, "chunks", 5)), query_number(query, "ms", 10)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    for i in range(chunks):
        if i:
            await asyncio.sleep(ms / 1000)
        await send(
            {"type": "http.response.body", "body": f"chunk {i}\n".encode(), "more_body": True}
        )
    await send({"type": "http.response.body", "body": b""})


app = asgi_app

"""Apps that stream until their client leaves, for the tests of a client that stops reading:
an ASGI one (an event stream, a chunk every 20 ms) and a WSGI generator, each 200 chunks of
1,000 bytes at most (``?chunks=N``: N), so a client that never stops still gets an end."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

CHUNK = b"data: " + b"x" * 992 + b"\n\n"
"""One event of 1,000 bytes."""
CHUNKS = 200


def chunks(query: str | bytes) -> int:
    """How many chunks a request's query string asks for (``chunks=N``), else ``CHUNKS``."""
    if isinstance(query, bytes):
        query = query.decode("latin-1")
    return int(parse_qs(query).get("chunks", [CHUNKS])[0])


async def asgi_stream(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A chunk every 20 ms; stops when its client leaves (the send fails or says so)."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/event-stream")],
        }
    )
    for _ in range(chunks(scope.get("query_string", b""))):
        await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
        await asyncio.sleep(0.02)
    await send({"type": "http.response.body", "body": b""})


def wsgi_stream(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    """A chunk every 20 ms from a generator; the server closes it when its client leaves."""
    start_response("200 OK", [("Content-Type", "text/event-stream")])
    for _ in range(chunks(environ.get("QUERY_STRING", ""))):
        yield CHUNK
        time.sleep(0.02)


BIG_CHUNK = b"x" * 65536
BIG_CHUNKS = 64
"""``asgi_big``'s body: 64 sends of 64 KiB (4 MiB), as fast as the server takes them."""


async def asgi_big(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """4 MiB in 64 KiB body messages, with a content-length, sent as fast as they go."""
    if scope["type"] != "http":
        return
    size = str(len(BIG_CHUNK) * BIG_CHUNKS).encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", size)]}
    )
    for index in range(BIG_CHUNKS):
        more = index < BIG_CHUNKS - 1
        await send({"type": "http.response.body", "body": BIG_CHUNK, "more_body": more})

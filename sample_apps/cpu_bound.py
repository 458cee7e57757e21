"""A CPU-bound endpoint: it computes for 20 ms of CPU time by default (``?ms=N``).

The work is pure Python, so it holds the GIL: more threads do not make it faster.
"""

from __future__ import annotations

import time
from typing import Any

from sample_apps._params import query_number

__all__ = ["wsgi_app", "asgi_app", "app", "burn", "DEFAULT_MS"]

DEFAULT_MS = 20.0


def burn(ms: float) -> int:
    """Spin in Python until this thread has used ``ms`` milliseconds of CPU; returns the spins."""
    until = time.thread_time_ns() + int(ms * 1_000_000)
    spins = 0
    while time.thread_time_ns() < until:
        for i in range(200):
            spins += i & 1
    return spins


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """WSGI: burn ``?ms`` of CPU, then 200."""
    spins = burn(query_number(environ.get("QUERY_STRING", ""), "ms", DEFAULT_MS))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"{spins}\n".encode()]


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """ASGI: burn ``?ms`` of CPU on the event loop (blocking it), then 200."""
    if scope["type"] != "http":
        return
    spins = burn(query_number(scope.get("query_string", b""), "ms", DEFAULT_MS))
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": f"{spins}\n".encode()})


app = wsgi_app

"""An I/O-bound endpoint: it waits (100 ms by default, ``?ms=N``) and then says hello.

WSGI waits with ``time.sleep`` (its worker thread is held but idle); ASGI with
``asyncio.sleep`` (the loop runs other requests meanwhile).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sample_apps._params import query_number

__all__ = ["wsgi_app", "asgi_app", "app", "DEFAULT_MS"]

DEFAULT_MS = 100.0


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """WSGI: ``time.sleep`` for ``?ms`` milliseconds, then 200."""
    time.sleep(query_number(environ.get("QUERY_STRING", ""), "ms", DEFAULT_MS) / 1000)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"done\n"]


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """ASGI: ``await asyncio.sleep`` for ``?ms`` milliseconds, then 200."""
    if scope["type"] != "http":
        return
    await asyncio.sleep(query_number(scope.get("query_string", b""), "ms", DEFAULT_MS) / 1000)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": b"done\n"})


app = asgi_app

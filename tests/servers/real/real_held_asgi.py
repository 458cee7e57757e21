"""An ASGI app that holds each request until the test lets it go, as ``real_held`` does for
WSGI: it marks the request as started (a file ``started-<pid>-<n>`` in the folder given by
``?dir=``), then answers once a file ``release`` appears there (within 30 s; else 504)."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

__all__ = ["app"]

_COUNT = itertools.count()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Mark the request started, wait for ``release``, answer 200 (504 if it never came)."""
    if scope["type"] != "http":
        return
    folder = Path(parse_qs(scope["query_string"].decode())["dir"][0])
    (folder / f"started-{os.getpid()}-{next(_COUNT)}").touch()
    deadline = time.monotonic() + 30
    status, body = 200, b"released"
    while not (folder / "release").exists():
        if time.monotonic() > deadline:
            status, body = 504, b"never released"
            break
        await asyncio.sleep(0.01)
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": body})

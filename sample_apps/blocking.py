"""The classic mistake: a blocking call (``time.sleep``, 100 ms by default) inside ``async def``.

The event loop can run nothing else meanwhile, so concurrent requests are served one after
another; ``trace run`` reports it as ``loop.blocked`` at this file's line.
"""

from __future__ import annotations

import time
from typing import Any

from sample_apps._params import query_number

__all__ = ["app", "DEFAULT_MS"]

DEFAULT_MS = 100.0


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """ASGI: ``time.sleep`` on the event loop for ``?ms`` milliseconds, then 200."""
    if scope["type"] != "http":
        return
    time.sleep(
        query_number(scope.get("query_string", b""), "ms", DEFAULT_MS) / 1000
    )  # blocks the loop
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": b"done\n"})

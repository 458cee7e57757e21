"""An app that kills its server on the third request (``os._exit``, as a crash would)."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["app"]

_served = [0]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers two requests, then takes the whole process down."""
    if scope["type"] != "http":
        return
    _served[0] += 1
    if _served[0] == 3:
        os._exit(3)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})

"""An ASGI app whose server process may write files of ``LIMIT_KIB`` KiB at most (``ulimit -f``,
set as the app is imported in a process of a real server, never in ``trace`` itself): the
server's stream of events outgrows it after some requests, as on a disk that fills up."""

from __future__ import annotations

import os
import resource
from typing import Any

from tracer.servers.real.bootstrap import ENV

LIMIT_KIB = 16

if ENV in os.environ:  # a process of the real server (``trace`` imports the app too)
    resource.setrlimit(
        resource.RLIMIT_FSIZE, (LIMIT_KIB * 1024, resource.getrlimit(resource.RLIMIT_FSIZE)[1])
    )


async def app(scope: Any, receive: Any, send: Any) -> None:
    """``200 ok`` to every HTTP request; no lifespan (the server goes on without)."""
    if scope["type"] != "http":
        raise RuntimeError("HTTP requests only")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})

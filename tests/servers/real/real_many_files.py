"""A WSGI app whose server process holds more than 1,024 open files (an app with many files,
pipes or pooled connections open), so every socket the server accepts has a descriptor past
select()'s FD_SETSIZE."""

from __future__ import annotations

import os
import resource
from typing import Any

__all__ = ["app", "HELD", "FD_SETSIZE"]

FD_SETSIZE = 1024
"""The highest descriptor select() takes, plus one (glibc's fixed size)."""

HELD: list[int] = []
"""Descriptors held open for the life of the process."""

if "GATEWAY_TRACER_BOOTSTRAP" in os.environ:  # the server process only, not ``trace``
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = FD_SETSIZE + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    while not HELD or HELD[-1] < FD_SETSIZE:
        HELD.append(os.open(os.devnull, os.O_RDONLY))


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """200 with the lowest descriptor the next socket could get (it is past FD_SETSIZE)."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(HELD[-1] + 1 if HELD else 0).encode()]

"""A WSGI app that holds each request until the test lets it go: it marks the request as
started (a file ``started-<pid>-<n>`` in the folder given by ``?dir=``), then answers once a
file ``release`` appears there (within 30 s; else 504). The test sees which requests the app
has, and decides when they may end, without timing anything."""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

__all__ = ["app"]

_COUNT = itertools.count()


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Mark the request started, wait for ``release``, answer 200 (504 if it never came)."""
    folder = Path(parse_qs(environ.get("QUERY_STRING", ""))["dir"][0])
    (folder / f"started-{os.getpid()}-{next(_COUNT)}").touch()
    deadline = time.monotonic() + 30
    while not (folder / "release").exists():
        if time.monotonic() > deadline:
            start_response("504 Gateway Timeout", [("Content-Type", "text/plain")])
            return [b"never released"]
        time.sleep(0.01)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"released"]

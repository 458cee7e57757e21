"""A WSGI app for gunicorn's gevent worker beside a greenlet started at import that holds the
hub: every ``PAUSE_S`` it calls the unpatched ``time.sleep`` for ``BLOCK_S``. No request
started it: its blocks are no request's, yet every greenlet waits them out."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import gevent
from gevent.monkey import get_original

__all__ = ["app", "tick", "BLOCK_S", "PAUSE_S"]

BLOCK_S = 0.03
PAUSE_S = 0.03

_blocking_sleep = get_original("time", "sleep")


def tick() -> None:
    """Forever: hold the hub ``BLOCK_S``, then wait ``PAUSE_S`` on it."""
    while True:
        _blocking_sleep(BLOCK_S)
        gevent.sleep(PAUSE_S)


_TICKER = gevent.spawn(tick)


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Sleep ``QUERY_STRING`` ms (200 by default) on the hub (patched), then answer."""
    time.sleep(int(environ.get("QUERY_STRING") or 200) / 1000)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]

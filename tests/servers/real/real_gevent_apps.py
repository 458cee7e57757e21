"""WSGI apps for gunicorn's gevent worker: waits on gevent's hub, and a CPU loop that holds it.

Served by ``--worker-class gevent``, ``time.sleep`` is gevent's (the worker patched the
process before loading the app): a sleeping request lets the others run. ``time.thread_time``
is not patched: ``burn`` computes on the hub's thread and holds it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["app", "burn", "BURN_S"]

BURN_S = 0.15
"""CPU seconds a ``/cpu`` request computes without a switch."""


def burn(seconds: float) -> None:
    """Compute for ``seconds`` of this thread's CPU, never yielding to the hub."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """``/sleep?MS``: sleep MS ms (100 by default); ``/cpu``: sleep 200 ms (the others start
    meanwhile), then ``burn`` ``BURN_S`` seconds holding the hub."""
    if environ["PATH_INFO"] == "/cpu":
        time.sleep(0.2)
        burn(BURN_S)
    else:
        time.sleep(int(environ.get("QUERY_STRING") or 100) / 1000)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]

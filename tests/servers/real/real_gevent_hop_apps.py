"""WSGI apps for gunicorn's gevent worker that hand work to a thread.

Served by ``--worker-class gevent``, ``threading`` is patched: a ``ThreadPoolExecutor``'s
workers are greenlets on the worker's one OS thread. gevent's own threadpool
(``gevent.get_hub().threadpool``) runs its work on real OS threads. The response's
``X-Ran-On`` header says where the work ran, for the tests to compare with the recording.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["app", "work", "BURN_S"]

BURN_S = 0.05
"""CPU seconds ``/pool-cpu``'s work computes without a switch (past the 10 ms threshold)."""


def work(burn: float = 0.0) -> str:
    """Sleep 20 ms (patched: a switch to the hub), compute ``burn`` CPU seconds; returns where
    it ran: the greenlet's name and the OS thread's ident."""
    import gevent
    from gevent.monkey import get_original

    time.sleep(0.02)
    end = time.thread_time() + burn
    while time.thread_time() < end:
        pass
    return f"{getattr(gevent.getcurrent(), 'name', '-')} {get_original('_thread', 'get_ident')()}"


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """``/pool``: ``work`` on a ``ThreadPoolExecutor`` (a greenlet under gevent), waited for;
    ``/pool-cpu``: the same computing ``BURN_S`` after its sleep; ``/native``: ``work`` on
    gevent's threadpool (a real OS thread), waited for."""
    path = environ["PATH_INFO"]
    if path == "/native":
        import gevent

        ran_on = gevent.get_hub().threadpool.spawn(work).get()
    else:
        with ThreadPoolExecutor(1) as pool:
            ran_on = pool.submit(work, BURN_S if path == "/pool-cpu" else 0.0).result()
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Ran-On", ran_on)])
    return [b"ok"]

"""WSGI apps for gunicorn's gevent worker whose requests start greenlets of their own.

Served by ``--worker-class gevent``, ``time.sleep`` is gevent's and ``threading.Thread`` starts
a greenlet. ``blocking_sleep`` is the unpatched ``time.sleep``: it holds the hub. The response's
``X-Ran-In`` header names the greenlets the work ran in, for the tests to compare with the
recording.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["app", "backend", "blocking_sleep", "LEFT_BLOCK_S", "CALLBACK_BLOCK_S"]

LEFT_BLOCK_S = 0.04
"""How long the greenlet ``/left`` leaves behind holds the hub, after its request ended."""

CALLBACK_BLOCK_S = 0.04
"""How long ``/hub-callback``'s callback holds the hub."""


def blocking_sleep(seconds: float) -> None:
    """The standard library's ``time.sleep``, which gevent's patching replaced: no switch."""
    from gevent.monkey import get_original

    get_original("time", "sleep")(seconds)


def backend(ran_in: list[str]) -> None:
    """A backend call: 20 ms on the hub (patched sleep); notes the greenlet it ran in."""
    import gevent

    ran_in.append(gevent.getcurrent().name)
    time.sleep(0.02)


def _left_behind() -> None:
    """Outlives its request: waits 60 ms on the hub, then holds it ``LEFT_BLOCK_S``."""
    time.sleep(0.06)
    blocking_sleep(LEFT_BLOCK_S)


def _collect_garbage() -> None:
    """Make 300 000 lists that hold themselves, drop them and collect them: the collection
    holds the hub."""
    junk: list[list[Any]] = [[] for _ in range(300_000)]
    for item in junk:
        item.append(item)
    del junk
    gc.collect()


def _callback() -> None:
    """Run by the hub itself: holds it ``CALLBACK_BLOCK_S``."""
    blocking_sleep(CALLBACK_BLOCK_S)


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """``/spawn``: three ``backend`` calls in greenlets (``gevent.spawn``), joined; ``/pool``:
    the same through a ``gevent.pool.Pool`` of 3; ``/thread``: one in a ``threading.Thread``,
    joined; ``/left``: starts ``_left_behind`` and answers at once; ``/hub-callback``: has the
    hub run ``_callback``, then sleeps 100 ms (patched); ``/gc``: ``_collect_garbage`` (holds the hub);
    ``/sleep?MS``: sleeps MS ms (patched)."""
    import gevent
    import gevent.pool

    path = environ["PATH_INFO"]
    ran_in: list[str] = []
    if path == "/spawn":
        gevent.joinall([gevent.spawn(backend, ran_in) for _ in range(3)])
    elif path == "/pool":
        pool = gevent.pool.Pool(3)
        for _ in range(3):
            pool.spawn(backend, ran_in)
        pool.join()
    elif path == "/thread":
        thread = threading.Thread(target=backend, args=(ran_in,))
        thread.start()
        thread.join()
    elif path == "/left":
        gevent.spawn(_left_behind)
    elif path == "/gc":
        _collect_garbage()
    elif path == "/hub-callback":
        gevent.get_hub().loop.run_callback(_callback)
        time.sleep(0.1)
    else:
        time.sleep(int(environ.get("QUERY_STRING") or 100) / 1000)
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Ran-In", " ".join(ran_in))])
    return [b"ok"]

"""Greenlets a traced request starts: ``gevent.spawn`` and its kin, and patched threads.

gevent calls each spawn callback (``Greenlet.add_spawn_callback``) as a greenlet is started:
``gevent.spawn``, ``Greenlet(...).start()``, ``gevent.pool.Pool.spawn`` and, where gevent has
patched ``threading``, ``threading.Thread(...).start()`` (its "thread" is a greenlet). The
callback runs in the greenlet that starts it, so ``tracer.shim.greenlets`` knows whose request
started it and follows its runs as steps of that request. This module only says how the new
greenlet came to be (``via_of``), and which are not followed: the workers a
``ThreadPoolExecutor`` starts as a request submits to it, whose work (not the worker's whole
life) is followed as a hop (``tracer.shim.hops``). Imports nothing of ours.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["via_of", "add_callback"]

SPAWN = "gevent.spawn"
THREAD = "threading.Thread"


def _pool_worker() -> Any:
    """``concurrent.futures``' worker loop, the target of a ``ThreadPoolExecutor``'s threads
    (None where it has another shape)."""
    try:
        from concurrent.futures import thread
    except ImportError:  # pragma: no cover - the standard library has it
        return None
    return getattr(thread, "_worker", None)


_POOL_WORKER = _pool_worker()


def via_of(started: Any) -> str | None:
    """How greenlet ``started`` came to be: ``threading.Thread`` for a patched thread's (gevent
    runs its ``_bootstrap``), ``gevent.spawn`` for any other gevent greenlet; None for a
    ``ThreadPoolExecutor``'s worker (its work is a hop of the request that submitted it, its
    idle life between two pieces of work nobody's)."""
    run = getattr(started, "_run", None)
    owner = getattr(run, "__self__", None)
    if isinstance(owner, threading.Thread):
        if _POOL_WORKER is not None and getattr(owner, "_target", None) is _POOL_WORKER:
            return None
        return THREAD
    return SPAWN


def add_callback(callback: Any) -> bool:
    """Have gevent call ``callback(greenlet)`` as each greenlet is started; False where this
    gevent has no spawn callbacks (before 1.4)."""
    try:
        from gevent import Greenlet
    except Exception:  # a broken gevent install: its greenlets go unfollowed
        return False
    add = getattr(Greenlet, "add_spawn_callback", None)
    if add is None:
        return False
    add(callback)
    return True

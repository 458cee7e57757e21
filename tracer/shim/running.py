"""The calling code's asyncio task, asked of a loop known to run on the calling thread.

``asyncio.current_task()`` is ``_current_tasks.get(get_running_loop())``, in Python on 3.11,
and ``get_running_loop()`` there makes a ``getpid()`` system call on every call (its check
for a forked child): 0.15-0.5 µs, paid by the ASGI shim at every request start and every
``receive``/``send``. The shim knows the loop its request runs on; ``task_on(loop)`` answers
the same question without the system call when that loop is the calling thread's running
loop, which asyncio's own loops say of themselves: ``BaseEventLoop`` sets ``_thread_id`` to
the thread running it for exactly as long as it is that thread's running loop. Otherwise
(another loop or thread, a loop without ``_thread_id`` such as uvloop's, Python 3.12+ whose
``current_task`` is C without the system call) it answers ``UNKNOWN`` and the caller asks
``asyncio.current_task()``.

One case reads differently: a loop run inside another's callback on one thread through
asyncio's private ``_set_running_loop`` (which asyncio itself refuses) is seen when one of its
tasks is running (two loops then have a current task) but not from a plain callback of it.
Imports only the standard library; never the TUI, exporters, server models or CLI.
"""

from __future__ import annotations

import asyncio
import asyncio.tasks
from threading import get_ident
from types import FunctionType
from typing import Any

__all__ = ["UNKNOWN", "CURRENT_TASKS", "task_on", "fast_loop"]

UNKNOWN: Any = object()
"""``task_on``'s answer when it cannot tell without asking asyncio."""

CURRENT_TASKS: dict[Any, Any] | None = (
    getattr(asyncio.tasks, "_current_tasks", None)
    if type(asyncio.current_task) is FunctionType
    and asyncio.current_task.__module__ == "asyncio.tasks"
    and isinstance(getattr(asyncio.tasks, "_current_tasks", None), dict)
    else None
)
"""The loop -> running task map the pure-Python ``asyncio.current_task`` reads (3.11), or
None where ``current_task`` is C (3.12+: cheap already, and what it reads may differ)."""


def fast_loop(loop: Any) -> Any:
    """``loop`` when ``task_on`` can answer for it (an asyncio loop on 3.11), else None."""
    if CURRENT_TASKS is None or not hasattr(loop, "_thread_id"):
        return None
    return loop


def task_on(loop: Any) -> Any:
    """``asyncio.current_task()`` if ``loop`` (from ``fast_loop``, or None) is the calling
    thread's running loop, else ``UNKNOWN``.

    More than one loop with a running task means another loop may be nested inside this one
    on this thread (see the module's docstring): ``UNKNOWN`` then too.
    """
    tasks = CURRENT_TASKS
    if loop is None or tasks is None or len(tasks) > 1 or loop._thread_id != get_ident():
        return UNKNOWN
    return tasks.get(loop)

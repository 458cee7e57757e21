"""``guard_os_exit``: do something first when the app calls ``os._exit`` in this process.

For the in-process server models the tool is the server: an app that calls ``os._exit`` ends
the tool's own process at once, exit handlers and all, and with them the recording's last
events (the recorder writes from a thread every 0.2 s). While a guard is on, ``os._exit`` first
calls the guard's ``before(code)`` (drain the recorder, say what happened), then exits as asked.
Only the process that put the guard on is guarded: a child forked from it (the app's own
multiprocessing) exits as usual. A ``before`` that fails never stops the exit.
The one piece of module state is the list of guards on (guards may nest, or overlap from
several threads). Imports nothing of ours.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import NoReturn

__all__ = ["guard_os_exit"]

_LOCK = threading.Lock()
# The guards on, in the order they were put on; os._exit is wrapped while there is one.
_GUARDS: list[tuple[int, Callable[[int], None]]] = []
_REAL_EXIT: list[Callable[[int], NoReturn]] = []  # the os._exit found when the first guard went on


def _guarded_exit(status: int) -> NoReturn:
    real = _REAL_EXIT[0] if _REAL_EXIT else os._exit
    pid = os.getpid()
    for owner, before in reversed(list(_GUARDS)):
        if owner != pid:
            continue  # a forked child: the parent's recording is not its to write
        try:
            before(status)
        except BaseException:  # noqa: S110 - the app asked to exit: nothing of ours may stop it
            pass
    real(status)
    raise SystemExit(status)  # not reached: keeps the NoReturn honest for a fake os._exit


@contextlib.contextmanager
def guard_os_exit(before: Callable[[int], None]) -> Iterator[None]:
    """While inside, ``os._exit(code)`` calls ``before(code)`` before it exits this process."""
    entry = (os.getpid(), before)
    with _LOCK:
        if not _GUARDS:
            _REAL_EXIT[:] = [os._exit]
            os._exit = _guarded_exit
        _GUARDS.append(entry)
    try:
        yield
    finally:
        with _LOCK:
            for index, guard in enumerate(_GUARDS):
                if guard is entry:
                    del _GUARDS[index]
                    break
            if not _GUARDS and _REAL_EXIT:
                if os._exit is _guarded_exit:
                    os._exit = _REAL_EXIT[0]  # type: ignore[assignment]
                _REAL_EXIT.clear()

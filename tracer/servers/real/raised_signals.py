"""``guard_raise_signal``: do something first when a server process raises a signal on itself.

uvicorn shuts down gracefully on SIGTERM or SIGINT, then puts back the handler it found (the
default one: uvicorn took the signal over before it loaded the app) and raises the signal
again with ``signal.raise_signal``, so that its process ends as killed by it. No exit handler
runs then, and a server process's recorder, which writes every ``FLUSH_INTERVAL`` and at exit,
would lose what the app recorded since its last write: a read of a request's body, the end of
a request the app finished during the stop. While the guard is on, ``signal.raise_signal``
first calls ``before(signum)`` (write what is queued), then raises the signal as asked. Only
the process that put the guard on is guarded: a child it forked raises as usual. A ``before``
that fails never stops the signal. Imports nothing of ours.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

__all__ = ["guard_raise_signal"]


def guard_raise_signal(before: Callable[[int], None]) -> Callable[[], None]:
    """From now on ``signal.raise_signal(signum)`` calls ``before(signum)`` first, in this
    process. Returns the function that takes the guard off again."""
    owner = os.getpid()
    real = signal.raise_signal

    def raise_signal(signum: int, /) -> None:
        if os.getpid() == owner:
            # The server asked for its signal: nothing of ours may stop it.
            try:
                before(signum)
            except BaseException:  # noqa: S110
                pass
        real(signum)

    signal.raise_signal = raise_signal

    def off() -> None:
        if signal.raise_signal is raise_signal:
            signal.raise_signal = real

    return off

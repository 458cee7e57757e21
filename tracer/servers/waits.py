"""The tool's own timed waits, bound when the tool is imported, before any app.

An app may replace ``time.sleep`` at import, with a function that raises or returns at once
(a test double left in place, a "no sleeping here" guard). The app shares the process with the
server models and the real-server harness (and, in a real server's processes, with the
bootstrap), so their waits must not go through what the app put there: ``sleep`` is the
function as it was when this module was imported, which the server models do before they load
an app. ``wait_exit`` replaces ``Popen.wait(timeout)``, which polls with ``time.sleep`` as it
finds it at the call; ``async_sleep`` is ``asyncio.sleep`` as it was (an app may replace that
with a fake that never suspends, and a model's ``await async_sleep(0)`` must still yield).
``tracer.servers`` imports this module, so anything importing a server model binds these before
it loads an app. Imports nothing of ours: a server process imports it before the app.
"""

from __future__ import annotations

import asyncio
import subprocess
import time

__all__ = ["async_sleep", "monotonic", "sleep", "wait_exit"]

sleep = time.sleep
"""``time.sleep`` as it was before any app was imported."""

monotonic = time.monotonic
"""``time.monotonic`` as it was before any app was imported (the deadlines of these waits)."""

async_sleep = asyncio.sleep
"""``asyncio.sleep`` as it was before any app was imported."""

_LONGEST_NAP = 0.05
"""The longest pause between two looks at a child (``Popen.wait``'s own)."""


def wait_exit(process: subprocess.Popen[bytes], timeout: float | None) -> int | None:
    """``process``'s exit code once it exits within ``timeout`` seconds (None: however long it
    takes), else None. Polls as ``Popen.wait`` does (naps doubling from 0.5 ms to 50 ms), with
    ``sleep`` rather than the ``time.sleep`` of the moment."""
    if timeout is None:
        return process.wait()  # a blocking waitpid: no sleeping involved
    deadline = monotonic() + timeout
    nap = 0.0005
    while (code := process.poll()) is None:
        left = deadline - monotonic()
        if left <= 0:
            return None
        sleep(min(nap, left))
        nap = min(nap * 2, _LONGEST_NAP)
    return code

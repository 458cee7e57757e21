"""What the app's requests leave running after them during ``trace check``: its threads.

Its one job is telling the app's threads from everyone else's (those alive when the check
started, and the check's own workers and loop thread), and waiting for them after the last
probe, at most ``LATE_GRACE``: their protocol calls after their request ended are
``WSGI-026`` and ``ASGI-003``. Imports nothing of the project.
"""

from __future__ import annotations

import threading
from time import monotonic

__all__ = ["LATE_GRACE", "LeftBehind"]

LATE_GRACE = 0.2
"""How long (seconds, at most) the check waits after its last request for the tasks and threads
the app left behind, whose protocol calls after their request ended are ``ASGI-003`` and
``WSGI-026``: calls they make later are not seen. Waited only while some are still running.
docs/rules.md (``rulesdoc``) says this number too."""


class LeftBehind:
    """The threads the app starts during a check: those alive at its start are not the app's
    requests', and ``ours`` (the check's workers and loop thread) are not the app's at all."""

    def __init__(self) -> None:
        self.before = frozenset(threading.enumerate())
        self.ours: set[threading.Thread] = set()

    def running(self) -> list[threading.Thread]:
        """The app's threads started since, still running."""
        return [
            thread
            for thread in threading.enumerate()
            if thread not in self.before and thread not in self.ours and thread.is_alive()
        ]

    def wait(self, deadline: float) -> bool:
        """Wait until they are all over or ``deadline`` (``time.monotonic``) passed; whether
        there were any."""
        threads = self.running()
        for thread in threads:
            left = deadline - monotonic()
            if left <= 0:
                break
            thread.join(left)
        return bool(threads)

"""``--server waitress``: the real waitress, one process with ``threads`` worker threads (4).

WSGI only. Stopped with SIGINT, which waitress handles by shutting its task dispatcher down and
returning, so the process exits normally and its events are flushed. Its socket loop waits with
poll(), not its default select(): select() fails ("filedescriptor out of range") on the first
socket whose descriptor is past FD_SETSIZE (1024), which a process holding many files or
connections reaches.
Imports only ``tracer.servers.real``'s own modules.
"""

from __future__ import annotations

import signal
import sys
from typing import Any

from tracer.servers.real.server import BOOTSTRAP_APP, RealServer

__all__ = ["WaitressServer", "DEFAULT_THREADS"]

DEFAULT_THREADS = 4
"""waitress's own default (``adjustments.py``)."""


class WaitressServer(RealServer):
    """waitress in a subprocess: one process, a FIFO task queue, ``threads`` workers."""

    name = "waitress"
    module = "waitress"
    takes_threads = True
    single_process = True
    serves = ("wsgi",)
    stop_signal = signal.SIGINT

    def processes(self) -> int:
        """waitress runs one process."""
        return 1

    def command(self, host: str, port: int) -> list[str]:
        """``python -m waitress --listen host:port --threads T --asyncore-use-poll
        tracer...bootstrap:app``."""
        return [
            sys.executable, "-m", "waitress",
            f"--listen={host}:{port}",
            f"--threads={self.config.threads or DEFAULT_THREADS}",
            "--asyncore-use-poll",
            BOOTSTRAP_APP,
        ]  # fmt: skip

    def describe(self) -> dict[str, Any]:
        """``{"model": "waitress", "workers": 1, "threads": T}``."""
        described = super().describe()
        described["threads"] = self.config.threads or DEFAULT_THREADS
        return described

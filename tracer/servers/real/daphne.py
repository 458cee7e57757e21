"""``--server daphne``: the real daphne (Django's ASGI server, on Twisted), one process.

ASGI only; HTTP/1.1 and WebSocket. daphne has no ASGI lifespan: it never calls the app with a
``lifespan`` scope, so an app's startup and shutdown handlers do not run there (the run notes
it). Imports only ``tracer.servers.real``'s own modules.
"""

from __future__ import annotations

import sys

from tracer.servers.real.server import BOOTSTRAP_APP, RealServer

__all__ = ["DaphneServer"]


class DaphneServer(RealServer):
    """daphne in a subprocess: one Twisted reactor running every connection."""

    name = "daphne"
    module = "daphne"
    single_process = True
    serves = ("asgi",)
    runs_lifespan = False

    def processes(self) -> int:
        """daphne runs one process."""
        return 1

    def command(self, host: str, port: int) -> list[str]:
        """``python -m daphne -b host -p port tracer.servers.real.bootstrap:app``."""
        return [
            sys.executable, "-m", "daphne", "-b", host, "-p", str(port), "-v", "0", BOOTSTRAP_APP,
        ]  # fmt: skip

"""``--server granian``: the real granian (a Rust HTTP server; ASGI or WSGI, HTTP/1.1 and 2).

``workers`` processes (spawned; default 1), each running the app on its own event loop (ASGI)
or on ``threads`` blocking threads (WSGI, ``--blocking-threads``). ``--http2`` makes it speak
HTTP/2 only, which the client then speaks with prior knowledge.
Imports only ``tracer.servers.real``'s own modules.
"""

from __future__ import annotations

import sys
from typing import Any

from tracer.errors import UsageError
from tracer.interface import is_asgi
from tracer.servers.real.server import BOOTSTRAP_APP, RealServer

__all__ = ["GranianServer"]


class GranianServer(RealServer):
    """granian in a subprocess: a supervisor and ``workers`` worker processes."""

    name = "granian"
    module = "granian"
    speaks_http2 = True
    takes_threads = True
    flags = frozenset({"loop"})
    option_packages = (("loop", "uvloop", "uvloop"),)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.config.threads is not None and is_asgi(self.interface):
            raise UsageError(
                "--threads does not apply to --server granian with an ASGI app (its blocking "
                "threads serve WSGI apps); leave it out."
            )

    def command(self, host: str, port: int) -> list[str]:
        """``python -m granian --interface asgi|wsgi --host ... --port ... bootstrap:app``."""
        command = [
            sys.executable, "-m", "granian",
            "--interface", "asgi" if is_asgi(self.interface) else "wsgi",
            "--host", host, "--port", str(port),
            "--workers", str(self.processes()),
            "--log-level", "warning", "--no-access-log",
            "--http", "2" if self.http2 else "1",
        ]  # fmt: skip
        if self.config.threads and not is_asgi(self.interface):
            command += ["--blocking-threads", str(self.config.threads)]
        if self.options.get("loop") is not None:
            command += ["--loop", str(self.options["loop"])]
        return [*command, BOOTSTRAP_APP]

    def describe(self) -> dict[str, Any]:
        """``{"model": "granian", "workers": N, "http2": ..., "loop": ... (when given),
        "threads": T (WSGI)}``."""
        described = super().describe()
        described["http2"] = self.http2
        if self.options.get("loop") is not None:
            described["loop"] = self.options["loop"]
        if not is_asgi(self.interface) and self.config.threads:
            # Without --threads granian picks its own count: the header says nothing rather
            # than a number nobody set (it is not 1: 20 requests were seen in flight).
            described["threads"] = self.config.threads
        return described

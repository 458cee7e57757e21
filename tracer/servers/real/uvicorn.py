"""``--server uvicorn``: the real uvicorn (ASGI, or WSGI through its own middleware).

Options passed through from ``ServerConfig``: ``workers`` (uvicorn's multiprocess supervisor),
and from ``options``: ``loop`` (``auto|asyncio|uvloop``), ``http`` (``auto|h11|httptools``),
``limit_concurrency`` (503 past it), ``max_requests`` (uvicorn's ``--limit-max-requests``: a
process stops serving after that many requests; the supervisor of ``--workers`` starts another,
a lone uvicorn exits with 0). Imports only ``tracer.servers.real``'s own modules.
"""

from __future__ import annotations

import sys
from typing import Any

from tracer.interface import is_asgi
from tracer.servers.real.server import BOOTSTRAP_APP, RealServer

__all__ = ["UvicornServer"]


class UvicornServer(RealServer):
    """uvicorn in a subprocess: one event loop per worker process."""

    name = "uvicorn"
    module = "uvicorn"
    flags = frozenset({"loop", "http", "limit_concurrency", "max_requests"})
    option_packages = (("loop", "uvloop", "uvloop"), ("http", "httptools", "httptools"))

    def command(self, host: str, port: int) -> list[str]:
        """``python -m uvicorn tracer.servers.real.bootstrap:app --host ... --port ...``."""
        options = self.options
        command = [
            sys.executable, "-m", "uvicorn", BOOTSTRAP_APP,
            "--host", host, "--port", str(port),
            "--interface", "asgi3" if is_asgi(self.interface) else "wsgi",
            "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
        if self.config.workers and self.config.workers > 1:
            command += ["--workers", str(self.config.workers)]
        for flag in ("loop", "http", "limit_concurrency"):
            if options.get(flag) is not None:
                command += [f"--{flag.replace('_', '-')}", str(options[flag])]
        if self.max_requests:
            command += ["--limit-max-requests", str(self.max_requests)]
        return command

    def describe(self) -> dict[str, Any]:
        """``{"model": "uvicorn", "workers": N, "loop": ..., "http": ..., ...}``."""
        described = super().describe()
        for flag in ("loop", "http", "limit_concurrency", "max_requests"):
            if self.options.get(flag) is not None:
                described[flag] = self.options[flag]
        return described

"""``--server hypercorn``: the real hypercorn (ASGI or WSGI; HTTP/1.1 and HTTP/2 cleartext).

``workers`` processes (hypercorn spawns them; default 1). With ``options["http2"]`` the client
speaks HTTP/2 with prior knowledge, which hypercorn accepts on its plain listener.
``options["worker_class"]`` (``--worker-class``) is hypercorn's own: ``asyncio`` (its default),
``uvloop`` or ``trio`` (the app then runs on trio; Starlette and FastAPI through anyio).
Imports only ``tracer.servers.real``'s own modules.
"""

from __future__ import annotations

import sys
from typing import Any

from tracer.errors import UsageError
from tracer.interface import is_asgi
from tracer.servers.real.server import RealServer

__all__ = ["HypercornServer", "WORKER_CLASSES"]

WORKER_CLASSES = ("asyncio", "uvloop", "trio")
"""hypercorn's ``--worker-class`` choices."""


class HypercornServer(RealServer):
    """hypercorn in a subprocess: a master and ``workers`` spawned worker processes."""

    name = "hypercorn"
    module = "hypercorn"
    speaks_http2 = True
    flags = frozenset({"worker_class"})
    option_packages = (("worker_class", "uvloop", "uvloop"), ("worker_class", "trio", "trio"))

    def worker_class(self) -> str:
        """The worker class to run: the chosen one, else hypercorn's default, ``asyncio``."""
        chosen = self.options.get("worker_class") or "asyncio"
        if chosen not in WORKER_CLASSES:
            raise UsageError(
                f'--worker-class "{chosen}" is not one of hypercorn\'s; choose one of: '
                f"{', '.join(WORKER_CLASSES)}."
            )
        return str(chosen)

    def command(self, host: str, port: int) -> list[str]:
        """``python -m hypercorn asgi:tracer.servers.real.bootstrap:create_app() --bind ...``."""
        # hypercorn evaluates the attribute in the module's namespace (a module __getattr__ is
        # not consulted), so it gets the factory call, with the interface said explicitly.
        mode = "asgi" if is_asgi(self.interface) else "wsgi"
        return [
            sys.executable, "-m", "hypercorn", f"{mode}:tracer.servers.real.bootstrap:create_app()",
            "--bind", f"{host}:{port}",
            "--workers", str(self.processes()),
            "--worker-class", self.worker_class(),
            "--log-level", "WARNING",
        ]  # fmt: skip

    def describe(self) -> dict[str, Any]:
        """``{"model": "hypercorn", "workers": N, "http2": ..., "worker_class": ...}``."""
        described = super().describe()
        described["http2"] = self.http2
        described["worker_class"] = self.worker_class()
        return described

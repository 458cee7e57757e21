"""``--server gunicorn``: the real gunicorn, a master forking ``workers`` worker processes.

Worker classes: ``sync`` (one request at a time per process; gunicorn's default), ``gthread``
(``threads`` per process; gunicorn picks it itself when threads > 1), ``asgi`` (gunicorn's own
asyncio worker, for ASGI apps) and ``gevent`` (WSGI apps; needs the gevent package): each
process patches itself with gevent and serves up to ``worker_connections``
(``--worker-connections``, gunicorn's default 1000) connections in greenlets on one OS thread,
recorded as steps of a loop (``tracer.shim.greenlets``). Each worker loads the app after fork, so each streams its own
events: one set of lanes per process. ``max_requests`` (``--max-requests``) is gunicorn's own:
the arbiter replaces a worker once it has served that many requests. Imports only ``tracer.servers.real``'s own modules.
"""

from __future__ import annotations

import sys
from typing import Any

from tracer.errors import UsageError
from tracer.interface import is_asgi
from tracer.recorder import Recorder
from tracer.servers import ServerConfig
from tracer.servers.real.harness import HOST
from tracer.servers.real.server import BOOTSTRAP_APP, RealServer

__all__ = ["GunicornServer", "WORKER_CLASSES", "WORKER_CONNECTIONS"]

WORKER_CLASSES = ("sync", "gthread", "asgi", "gevent")
"""The ``--worker-class`` choices (``gevent`` needs the gevent package: ``option_packages``)."""

WORKER_CONNECTIONS = 1000
"""gunicorn's default ``--worker-connections``: a gevent worker's connections at most."""

GRACEFUL_TIMEOUT = 5
"""gunicorn's ``--graceful-timeout`` here: seconds its workers have to finish their requests
(and the app's lifespan shutdown) at a stop before the master kills them."""


class GunicornServer(RealServer):
    """gunicorn in a subprocess group (master + workers)."""

    name = "gunicorn"
    module = "gunicorn"
    takes_threads = True
    flags = frozenset({"worker_class", "max_requests", "worker_connections"})
    option_packages = (("worker_class", "gevent", "gevent"),)
    stop_timeout = GRACEFUL_TIMEOUT + 2.0
    """Past its own bound: gunicorn kills a worker still busy at it, and says so in its log."""

    def __init__(self, config: ServerConfig, recorder: Recorder, *, host: str = HOST) -> None:
        super().__init__(config, recorder, host=host)
        chosen = self.worker_class()
        if self.config.threads is not None and chosen == "gevent":
            raise UsageError(
                "--threads does not apply to --worker-class gevent: each process serves its "
                "requests in greenlets on one thread; leave --threads out "
                "(--worker-connections sets how many connections a process serves at once)."
            )
        if self.options.get("worker_connections") and chosen != "gevent":
            raise UsageError(
                "--worker-connections sets how many connections a gevent worker serves at "
                f"once; --worker-class {chosen} does not use it: add --worker-class gevent "
                "or leave it out."
            )
        if self.config.threads is not None and chosen == "asgi":
            # gunicorn's asgi worker ignores --threads (a warning in its log only): refused,
            # as every flag a server would not act on is.
            raise UsageError(
                "--threads does not apply to --server gunicorn with an ASGI app: its asgi "
                "worker runs each process's requests on one event loop; leave --threads out "
                "(--workers sets the processes)."
            )

    def worker_class(self) -> str:
        """The worker class to run: the chosen one, else ``asgi`` for ASGI apps, else sync/gthread."""
        chosen = self.options.get("worker_class")
        if chosen is not None:
            if chosen not in WORKER_CLASSES:
                raise UsageError(
                    f'Unknown --worker-class "{chosen}". Choose one of: {", ".join(WORKER_CLASSES)}.'
                )
            if (chosen == "asgi") != is_asgi(self.interface):  # gevent serves WSGI only
                kind = "an ASGI" if is_asgi(self.interface) else "a WSGI"
                fit = "asgi" if is_asgi(self.interface) else "sync, gthread or gevent"
                raise UsageError(
                    f"--worker-class {chosen} cannot run {kind} app; use --worker-class {fit}."
                )
            if chosen == "sync" and (self.config.threads or 1) > 1:
                # gunicorn runs gthread then, saying nothing: the recording says what ran.
                return "gthread"
            return str(chosen)
        if is_asgi(self.interface):
            return "asgi"
        return "gthread" if (self.config.threads or 1) > 1 else "sync"

    def command(self, host: str, port: int) -> list[str]:
        """``python -m gunicorn tracer.servers.real.bootstrap:app --bind host:port ...``."""
        command = [
            sys.executable, "-m", "gunicorn", BOOTSTRAP_APP,
            "--bind", f"{host}:{port}",
            "--workers", str(self.processes()),
            "--worker-class", self.worker_class(),
            "--graceful-timeout", str(GRACEFUL_TIMEOUT),
            "--log-level", "warning",
        ]  # fmt: skip
        if self.config.threads:
            command += ["--threads", str(self.config.threads)]
        if self.options.get("worker_connections"):
            command += ["--worker-connections", str(self.options["worker_connections"])]
        if self.max_requests:
            # No jitter: a worker recycled after exactly N is told from one that died.
            command += ["--max-requests", str(self.max_requests)]
        return command

    def describe(self) -> dict[str, Any]:
        """``{"model": "gunicorn", "workers": N, "threads": T, "worker_class": ...}``, and
        ``worker_connections`` for gevent."""
        described = super().describe()
        described["threads"] = self.config.threads or 1
        described["worker_class"] = self.worker_class()
        if described["worker_class"] == "gevent":
            described["worker_connections"] = int(
                self.options.get("worker_connections") or WORKER_CONNECTIONS
            )
        if self.max_requests:
            described["max_requests"] = self.max_requests
        return described

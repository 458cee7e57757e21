"""Server models: what runs a traced app under load, and the small interface they share.

A server model is built from a ``ServerConfig`` and a ``Recorder``, started, and then driven
by the load generator through its ``target``: one ``await target.request(request, timeout=...)``
per request, on the load generator's own event loop. An in-process model (``threads``,
``loop``, ``wsgi-on-loop``, ``processes``) implements ``request`` directly; a real server in a
subprocess implements it with an HTTP client. ``SERVER_MODELS`` maps the ``--server`` choices
to ``"module:Class"`` strings, imported only when chosen (as uvicorn's ``HTTP_PROTOCOLS``).
A model may also have ``start_until(stop)`` (``tracer.run`` calls it instead of ``start``: a
long start that gives up once the run is stopped), and ``watch_exit(stop)`` with ``exit_code``
(a server, or one of its processes, that dies during the load sets ``stop``; ``exit_subject``
and ``exit_effect``, when present, word the CLI's line about it).

Server models import the spine, ``tracer.instrument`` and ``tracer.loading``; never the TUI,
the exporters, the OpenTelemetry bridge or the CLI.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from tracer.errors import UsageError
from tracer.recorder import Recorder

# Imported here to be bound before any app is: the models' waits must not be the sleeps an
# app replaced at import (anything that imports a model imports this package first).
from tracer.servers import waits as waits
from tracer.servers.real import REAL_SERVERS

__all__ = [
    "SERVER_MODELS",
    "DEFAULT_MODELS",
    "Request",
    "Response",
    "ServerConfig",
    "ServerModel",
    "ServerModelFactory",
    "Target",
    "server_model",
    "TIMEOUT",
    "CANCELLED",
    "WORKER_EXITED",
]

TIMEOUT = "timeout"
"""``Response.error`` (and ``request.end`` data ``error``) when the client gave up waiting."""
CANCELLED = "cancelled"
"""``Response.error`` when the run was stopped while the request was in flight."""
WORKER_EXITED = "worker exited"
"""``Response.error`` when the worker process running the request died (``processes``)."""


@dataclass(frozen=True, slots=True)
class Request:
    """One request the load generator sends; built once per plan entry and reused."""

    method: str = "GET"
    """HTTP method."""
    path: str = "/"
    """Path, without the query string."""
    query: str = ""
    """Raw query string (without ``?``)."""
    headers: tuple[tuple[str, str], ...] = ()
    """Request headers in order, names as given (servers lowercase them for ASGI)."""
    body: bytes = b""
    """Request body (sent as several ``http.request`` messages / read from ``wsgi.input``)."""
    websocket: bool = False
    """Open a websocket instead of an HTTP request."""
    ws_messages: int = 0
    """Messages the client sends on a websocket, each waiting for one reply."""


@dataclass(frozen=True, slots=True)
class Response:
    """What the client saw of one request."""

    req: int | None
    """The request id the server model gave it (``recorder.new_request_id()``)."""
    status: int | None
    """HTTP status (101 for an accepted websocket), None when there was no response."""
    bytes_out: int = 0
    """Response body bytes (or websocket message bytes) the client received."""
    error: str | None = None
    """None, ``TIMEOUT``, ``CANCELLED``, ``WORKER_EXITED``, or the app's exception type."""


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """How to build a server model: the app and the concurrency knobs of ``trace run``."""

    app_spec: str | None = None
    """``module:attr`` (or ``path/file.py:attr``); how a child process or real server finds it."""
    app: Any = None
    """The already loaded, untraced app for in-process models (loaded from ``app_spec`` if None)."""
    interface: str = "auto"
    """``auto``, ``wsgi`` or ``asgi`` (``--interface``)."""
    factory: bool = False
    """``app_spec`` names a factory to call for the app (``--factory``)."""
    app_dir: str = "."
    """Directory put first on ``sys.path`` before importing (``--app-dir``)."""
    threads: int | None = None
    """Worker threads (per process); None takes the model's default."""
    workers: int | None = None
    """Worker processes; None takes the model's default."""
    http_version: str = "1.1"
    """HTTP version the scope/environ reports (``--http2`` sets ``2``)."""
    block_threshold_ms: float = 10.0
    """A coroutine step longer than this is recorded as ``loop.blocked``."""
    redact: bool = True
    """Redact secret headers and query parameters in the recording."""
    checks: bool = True
    """Check protocol conformance (``violation`` events)."""
    options: dict[str, Any] = field(default_factory=dict)
    """Model-specific extras (a real server's command-line flags, for example)."""


@runtime_checkable
class Target(Protocol):
    """What the load generator talks to; ``request`` runs on the load generator's loop."""

    async def request(self, request: Request, *, timeout: float | None = None) -> Response:
        """Send one request and wait for its response (or ``timeout`` seconds).

        The server model gives the request its id, records ``request.queued`` when it arrives,
        and records ``request.end`` with ``error="timeout"`` if the client gives up first.
        Cancelling the call (the run was stopped) records ``error="cancelled"`` and re-raises.
        """
        ...


@runtime_checkable
class ServerModel(Protocol):
    """A server model: built with ``(config, recorder)``, then ``start()``, ``target``, ``stop()``.

    The load generator always runs on a loop of its own (see ``tracer.run.run``).
    """

    name: str
    """The ``--server`` choice this model answers to."""

    @property
    def target(self) -> Target:
        """Where the load generator sends requests (valid after ``start``)."""
        ...

    def describe(self) -> dict[str, Any]:
        """The recording header's ``server`` field: ``{"model": ..., "threads": ..., ...}``."""
        ...

    def start(self) -> None:
        """Start workers (and lifespan startup); return when requests can be sent."""
        ...

    def stop(self, timeout: float = 5.0) -> None:
        """Shut down (lifespan shutdown, workers); never waits on a hung worker past ``timeout``."""
        ...


class ServerModelFactory(Protocol):
    """A server model class: ``factory(config, recorder)``; raises ``InterfaceError`` on misfit."""

    def __call__(self, config: ServerConfig, recorder: Recorder) -> ServerModel: ...


# --server choice -> "module:Class". Real servers (tracer/servers/real/) add their entries here.
SERVER_MODELS: dict[str, str] = {
    "threads": "tracer.servers.threads:ThreadsServer",
    "loop": "tracer.servers.loop:LoopServer",
    "wsgi-on-loop": "tracer.servers.wsgi_on_loop:WsgiOnLoopServer",
    "processes": "tracer.servers.processes:ProcessesServer",
    # Real servers in a subprocess, the shim inside (tracer/servers/real/).
    **REAL_SERVERS,
}

# The model used when --server is not given, by interface.
DEFAULT_MODELS: dict[str, str] = {"wsgi": "threads", "asgi": "loop"}


def server_model(name: str) -> ServerModelFactory:
    """The server model class registered as ``name``; ``UsageError`` names the choices."""
    try:
        target = SERVER_MODELS[name]
    except KeyError:
        choices = ", ".join(sorted(SERVER_MODELS))
        raise UsageError(f'Unknown server model "{name}". Choose one of: {choices}.') from None
    module_name, _, attr = target.partition(":")
    factory: ServerModelFactory = getattr(importlib.import_module(module_name), attr)
    return factory

"""Real servers in a subprocess, with the shim inside: uvicorn, hypercorn, gunicorn, waitress,
granian and daphne.

``REAL_SERVERS`` maps the ``--server`` choices to their classes (``"module:Class"``), imported
only when chosen; ``tracer.servers.SERVER_MODELS`` includes them. The pieces: ``harness``
(process group, port, readiness, stop), ``bootstrap`` (what the server imports as its app),
``merge`` (per-process recordings into the run's), ``server`` (the ``ServerModel``).
Imports only the spine, ``tracer.client`` and ``tracer.servers``; never the TUI or the CLI.
"""

from __future__ import annotations

__all__ = ["REAL_SERVERS"]

REAL_SERVERS: dict[str, str] = {
    "uvicorn": "tracer.servers.real.uvicorn:UvicornServer",
    "hypercorn": "tracer.servers.real.hypercorn:HypercornServer",
    "gunicorn": "tracer.servers.real.gunicorn:GunicornServer",
    "waitress": "tracer.servers.real.waitress:WaitressServer",
    "granian": "tracer.servers.real.granian:GranianServer",
    "daphne": "tracer.servers.real.daphne:DaphneServer",
}

"""The ``wsgi-on-loop`` server model: a WSGI app behind asgiref's ``WsgiToAsgi`` on a loop.

The event loop is the ``loop`` model's; the app is the traced WSGI app wrapped in asgiref's
``WsgiToAsgi``, which runs it through ``sync_to_async`` (thread_sensitive by default), so every
request runs on one and the same thread, one at a time, however many arrive: the point of
showing it. The request id reaches the WSGI shim in the environ, as with the ``threads`` model.
Imports the spine, ``tracer.instrument`` and ``tracer.servers``; never the TUI or exporters.
"""

from __future__ import annotations

from typing import Any

from asgiref.wsgi import WsgiToAsgi, WsgiToAsgiInstance

import tracer
from tracer.servers.environ import REQ_KEY
from tracer.servers.loop import LoopServer

__all__ = ["WsgiOnLoopServer", "TracedWsgiToAsgi"]


class _Instance(WsgiToAsgiInstance):  # type: ignore[misc]
    def build_environ(self, scope: dict[str, Any], body: Any) -> dict[str, Any]:
        environ: dict[str, Any] = super().build_environ(scope, body)
        extension = scope.get("extensions", {}).get("gateway_tracer")
        if extension is not None:
            environ[REQ_KEY] = extension["req"]
        client = scope.get("client")
        if client is not None:
            environ["REMOTE_PORT"] = str(client[1])
        return environ


class TracedWsgiToAsgi(WsgiToAsgi):  # type: ignore[misc]
    """asgiref's ``WsgiToAsgi``, passing the request id from the scope into the environ."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await _Instance(self.wsgi_application, self.duplicate_header_limit)(scope, receive, send)


class WsgiOnLoopServer(LoopServer):
    """WSGI through ``WsgiToAsgi`` on one event loop: one shared thread runs every request."""

    name = "wsgi-on-loop"
    serves = ("wsgi",)

    def _prepare(self, app: Any, interface: str) -> Any:
        traced = tracer.instrument(
            app,
            recorder=self.recorder,
            interface="wsgi",
            redact=self.config.redact,
            checks=self.config.checks,
        )
        return TracedWsgiToAsgi(traced)

    def describe(self) -> dict[str, Any]:
        """``{"model": "wsgi-on-loop", "threads": 1, "workers": 1}``: one sync_to_async thread."""
        return {"model": self.name, "threads": 1, "workers": 1}

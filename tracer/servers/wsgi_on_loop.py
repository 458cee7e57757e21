"""The ``wsgi-on-loop`` server model: a WSGI app behind asgiref's ``WsgiToAsgi`` on a loop.

The event loop is the ``loop`` model's; the app is the traced WSGI app wrapped in asgiref's
``WsgiToAsgi``, which runs it through ``sync_to_async`` (thread_sensitive by default), so every
request runs on one and the same thread, one at a time, however many arrive: the point of
showing it. The request id reaches the WSGI shim in the environ, as with the ``threads`` model.
Imports the spine, ``tracer.instrument`` and ``tracer.servers``; never the TUI or exporters.
"""

from __future__ import annotations

import time
from typing import Any

from asgiref.sync import sync_to_async
from asgiref.wsgi import WsgiToAsgi, WsgiToAsgiInstance

import tracer
from tracer.servers.environ import REQ_KEY
from tracer.servers.job import Job
from tracer.servers.loop import LoopServer

__all__ = ["WsgiOnLoopServer", "TracedWsgiToAsgi"]


class _Instance(WsgiToAsgiInstance):  # type: ignore[misc]
    def build_environ(self, scope: dict[str, Any], body: Any) -> dict[str, Any]:
        environ: dict[str, Any] = super().build_environ(scope, body)
        extension = scope.get("extensions", {}).get("gateway_tracer")
        if extension is not None:
            environ[REQ_KEY] = extension["req"]
            model = extension.get("model")
            if model is not None:  # on the WSGI thread: the app is about to run this request
                model.in_thread = extension.get("job")
        client = scope.get("client")
        if client is not None:
            environ["REMOTE_PORT"] = str(client[1])
        return environ

    @sync_to_async  # type: ignore[misc]  # (as asgiref's own: on the one shared thread)
    def run_wsgi_app(self, body: Any) -> None:
        try:
            _RUN_WSGI_APP(self, body)
        finally:
            # On the WSGI thread, after the traced app (and so its request.end): the request is
            # done even when its task was cancelled meanwhile and no longer waits for it.
            extension = self.scope.get("extensions", {}).get("gateway_tracer", {})
            job = extension.get("job")
            if job is not None:
                job.finished = True
                extension["model"].in_thread = None


_RUN_WSGI_APP = WsgiToAsgiInstance.__dict__["run_wsgi_app"].func


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

    ends_in_task = False  # the WSGI thread says when the app is done (see _Instance)

    in_thread: Job | None = None
    """The request the shared WSGI thread is running, if any."""

    def hand_over(self, job: Job, scope: dict[str, Any]) -> None:
        """The job rides in the scope to the WSGI thread, which marks it finished."""
        extension = scope["extensions"]["gateway_tracer"]
        extension["job"] = job
        extension["model"] = self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop, then wait (within ``timeout``) for the request the thread runs.

        A cancelled task does not wait for the thread running its request, so without this
        the run would end that request as cancelled while the app still finishes it.
        """
        deadline = time.monotonic() + timeout
        super().stop(timeout)
        job = self.in_thread
        while job is not None and not job.finished and time.monotonic() < deadline:
            time.sleep(0.01)

    def describe(self) -> dict[str, Any]:
        """``{"model": "wsgi-on-loop", "threads": 1, "workers": 1}``: one sync_to_async thread."""
        return {"model": self.name, "threads": 1, "workers": 1}

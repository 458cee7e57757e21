"""The ASGI shim: middleware that records every protocol call and coroutine step of an app.

``AsgiShim(app, recorder=rec)`` is an ASGI 3 app wrapping an ASGI 3 or ASGI 2 app (ASGI 2 is
normalised as asgiref's ``guarantee_single_callable`` does). Each connection — ``http``,
``websocket`` or ``lifespan`` — is one request: ``request.start`` with the scope summary,
``asgi.receive`` / ``asgi.send`` for every message (``dur``: time waiting in receive, time
inside the server's send), ``sched.step`` for every step of the app's coroutine (driven by
``tracer.shim.steps.Stepper``) and of the tasks it creates (``tracer.shim.tasks``; on trio,
``tracer.shim.trio_run``),
``loop.blocked`` for a step longer than ``block_threshold_ms``, ``error`` when the app raises
(the same exception object then propagates), ``violation`` for what the conformance checker
reports, and ``request.end``. An app that kept ``send`` and awaits it after ``request.end`` (a
task left running, a later request) gets the server's ``send`` unchanged and the request gets
one ``ASGI-003`` violation, and no ``asgi.send``: the request is over.

Request ids: a server model that already gave the request an id (so its ``request.queued``
and the shim's events share it) passes it as ``scope["extensions"]["gateway_tracer"]["req"]``;
otherwise the shim takes ``recorder.new_request_id()``. A shim called for a connection that a
shim of the same recorder further out already records (the app instrumented twice, or an
instrumented sub-app mounted in an instrumented app) passes it straight to its app: each
connection is one request per recorder; a WSGI shim of the same recorder called for the
connection (a WSGI sub-app mounted through an adapter such as asgiref's ``WsgiToAsgi``) asks
``records_environ`` and does the same. ``request.end``'s ``route`` is the full template of the
route the app's router matched, mounts included: Starlette's and FastAPI's ``scope["route"]``,
Litestar's ``scope["path_template"]`` (``tracer.shim.routes``).

When a ``lifespan`` connection ends (the server is shutting down), the recorder is drained, so
what was recorded is on disk even if the process then ends without running atexit handlers
(uvicorn re-raises its stop signal).

The wrapped app behaves exactly as the unwrapped one: same messages (the very objects), same
order, same exceptions, same context variables; but its caller's frame, for
``warnings.warn(..., stacklevel=2)`` in the app, is the step proxy's (docs/rules.md, Limits). A failure inside the shim's own recording is
logged once per shim and the request goes on unrecorded. Per-request state lives in a
cycle made per call (``tracer.shim.asgi_cycle``), never on the shim; this module holds the
shim: ASGI 2/3 detection, the entry of each connection, and whether a shim further out
records it already. Imports the spine and ``tracer.shim.*`` (the cycle imports
``tracer.conformance``); never the TUI, exporters, server models or CLI.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from tracer.errors import UsageError
from tracer.interface import ASGI2, ASGI3, detect_interface
from tracer.recorder import Recorder
from tracer.redact import header_verdicts, secret_header_names
from tracer.shim import hops
from tracer.shim.asgi_cycle import AsgiCycle
from tracer.shim.blocking import LoopState, watch_threshold
from tracer.shim.context import CURRENT
from tracer.shim.routes import RouteTemplates
from tracer.shim.routes_apps import asgi_router
from tracer.shim.settings import block_threshold_ns

__all__ = ["AsgiShim", "records_environ", "Scope", "Message", "Receive", "Send", "ASGIApp"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("tracer")

# Scope values a copy of a scope shares with it (a new connection's scope has its own).
_SHARED_BY_COPIES = ("asgi", "headers", "state")


class AsgiShim:
    """Wrap an ASGI app so every connection is recorded into ``recorder``.

    ``asgi_version`` is ``"asgi3"``, ``"asgi2"`` or ``"auto"`` (detected from the app);
    ``block_threshold_ms``: a coroutine step holding the loop this long is ``loop.blocked``;
    ``redact=False`` records secret headers and query values as they are; ``redact_headers``
    replaces the set of header names whose values are redacted; ``checks`` runs the ASGI
    conformance checker on every connection.
    """

    def __init__(
        self,
        app: Any,
        *,
        asgi_version: str = ASGI3,
        recorder: Recorder | None = None,
        block_threshold_ms: float = 10.0,
        redact: bool = True,
        redact_headers: frozenset[str] | set[str] | None = None,
        checks: bool = True,
        **options: Any,
    ) -> None:
        if options:
            names = ", ".join(sorted(options))
            raise UsageError(f"AsgiShim does not know the option(s) {names}; remove them.")
        block_ns = block_threshold_ns(block_threshold_ms)
        if asgi_version == "auto":
            asgi_version = detect_interface(app, "asgi")
        if asgi_version not in (ASGI3, ASGI2):
            raise UsageError(f"asgi_version must be 'asgi3' or 'asgi2', not {asgi_version!r}.")
        self.app = app
        self.asgi_version = asgi_version
        self.recorder = recorder if recorder is not None else Recorder()
        self.block_ns = block_ns
        self.redact = redact
        self.secret_headers = secret_header_names(redact, redact_headers)
        # Looked up by each header's bytes name as sent: the default names' memo is shared by
        # every shim; a plain set of names would lose the names like a secret's (X-Auth-Token).
        self._verdicts = header_verdicts(self.secret_headers)
        self.checks = checks
        self._version = "2.0" if asgi_version == ASGI2 else "3.0"
        self._complained: set[str] = set()
        self._templates = RouteTemplates()
        # Django's, Falcon's, Quart's and Sanic's route (None: any other app).
        self._router = asgi_router(app)
        # The loop the last request ran on (its ``LoopState``): the next request on it finds
        # its task without asking asyncio (``tracer.shim.running``). Not per request: a loop's.
        self._loop_cache: LoopState | None = None
        hops.install()
        watch_threshold(self.block_ns)

    def _call_app(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if self.asgi_version == ASGI2:
            return self.app(scope)(receive, send)
        return self.app(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app for one connection, recording it."""
        outer = CURRENT.get()
        if outer is not None and self._recorded_outside(outer, scope):
            return await self._call_app(scope, receive, send)
        try:
            cycle = AsgiCycle(self, scope, receive, send, outer)
        except Exception as exc:
            self.failed("recording a request start", exc)
            return await self._call_app(scope, receive, send)
        token = CURRENT.set(cycle)
        error: BaseException | None = None
        try:
            if self.asgi_version == ASGI3:  # _call_app, inlined: once per request
                cycle.coro = self.app(scope, cycle.receive, cycle.send)
            else:
                cycle.coro = self.app(scope)(cycle.receive, cycle.send)
            return await cycle
        except BaseException as exc:
            error = exc
            cycle.raised(exc)
            raise
        finally:
            try:
                CURRENT.reset(token)
            except ValueError:  # the app switched contexts under us; the value dies with it
                pass
            route = scope.get("route")  # what Starlette's and FastAPI's routers leave there
            litestar = scope.get("path_template")  # and Litestar's
            if route is None and litestar is None:
                template = None if self._router is None else self._router(scope)
            else:
                template = self._templates.of_scope(scope, route, litestar)
            cycle.finish(error, template)
            if scope.get("type") == "lifespan":
                self._drain()

    def _recorded_outside(self, context: Any, scope: Scope) -> bool:
        """Whether a shim of our recorder, further out, is recording this very connection.

        ``context`` is the traced request current where we are called. A shim of our recorder
        among it and the shims around it records this connection when it was given the same
        scope, or a copy of it (middleware in between may copy the scope; a copy shares the
        objects in it: its ``asgi`` dict, headers, lifespan state). A new connection made
        inside a request (an in-process client calling another app) has a scope of its own.
        """
        while isinstance(context, AsgiCycle):
            if context.recorder is self.recorder:
                theirs = context.scope
                if scope is theirs:
                    return True
                for key in _SHARED_BY_COPIES:
                    value = scope.get(key)
                    if value is not None and value is theirs.get(key):
                        return True
                return False
            context = context.outer
        return False

    def _drain(self) -> None:
        """The lifespan is over: put what was recorded where it goes (the file) now."""
        try:
            self.recorder.drain_unread()
        except Exception as exc:
            self.failed("draining the recording at the lifespan's end", exc)

    def settings(self) -> tuple[Any, ...]:
        """What this shim records and how: two shims of one recorder with equal settings
        record the same events (``tracer.instrument`` then returns the one it was given)."""
        return (self.asgi_version, self.block_ns, self.redact, self.secret_headers, self.checks)

    def failed(self, what: str, exc: BaseException) -> None:
        """Report a failure of the shim's own code, once per kind of failure per shim."""
        if what not in self._complained:
            self._complained.add(what)
            log.error(
                "gateway-tracer: %s failed; the request goes on unrecorded", what, exc_info=exc
            )


def records_environ(context: Any, recorder: Recorder, environ: Mapping[str, Any]) -> bool:
    """Whether a shim of ``recorder`` records the connection a WSGI ``environ`` was built from.

    ``context`` is the traced request current where a WSGI shim is called. A WSGI app mounted in
    an ASGI app through an adapter (asgiref's ``WsgiToAsgi``, Starlette's or a2wsgi's
    ``WSGIMiddleware``) runs on a thread that carries the request's context, with an environ the
    adapter built from the scope (or a copy of it). It is that connection when the environ asks
    what the scope asks: the same method, query and path (the adapters split the path into
    ``SCRIPT_NAME`` and ``PATH_INFO`` at the scope's ``root_path``). A new request made inside the
    connection (an in-process WSGI client calling another app) asks for something else and is
    a request of its own.
    """
    while isinstance(context, AsgiCycle):
        if context.recorder is recorder:
            return _asks_the_same(context.scope, environ)
        context = context.outer
    return False


def _asks_the_same(scope: Scope, environ: Mapping[str, Any]) -> bool:
    """Whether ``environ`` is what an ASGI-to-WSGI adapter builds from ``scope``."""
    if scope.get("type") != "http" or environ.get("REQUEST_METHOD") != scope.get("method"):
        return False
    query = scope.get("query_string") or b""
    if environ.get("QUERY_STRING", "") != query.decode("latin-1"):
        return False
    # WSGI paths are the UTF-8 bytes of the ASGI path, as latin-1 (PEP 3333).
    path = scope.get("path", "").encode("utf-8").decode("latin-1")
    asked = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    if asked == path:  # the path includes the root path, as the ASGI spec has it
        return True
    # A scope whose path leaves out its root_path (older routers and servers).
    return asked == scope.get("root_path", "").encode("utf-8").decode("latin-1") + path

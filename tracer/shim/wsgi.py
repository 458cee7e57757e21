"""``WsgiShim``: WSGI middleware that records every protocol call of every request.

One request, as recorded (``req`` is its id)::

    request.start        environ summary, headers redacted
    wsgi.input.read      each read/readline/readlines/readinto/line pulled (bytes; dur = time in it;
                         raised = the exception's type when the server's read raised)
    wsgi.start_response  status, headers (redacted), exc_info (type name or null)
    wsgi.write           the legacy write() callable (bytes; dur = time inside the server's write;
                         raised as for a read)
    wsgi.body            each chunk of the response iterable (bytes; dur = time the app took,
                         from after its last call to the server in that step, if it made one)
    wsgi.close           the server closed the response (dur = time inside the app's close)
    error                an exception in the call, mid-iteration or in close (re-raised unchanged)
    violation            a PEP 3333 rule broken (when checking is on)
    sched.thread         the request's time on its thread (cpu_ns from thread_time_ns; one per
                         thread if the server iterates on another thread than it called on),
                         and one per thread the app handed work to (``tracer.shim.hops``: the
                         request is current, ``tracer.shim.context.CURRENT``, while the app is
                         called, while each chunk of its response is made and during its
                         close; asgiref's ``async_to_sync`` loop thread among them)
    request.end          status, bytes_in, bytes_out, error, close_called; route when the
                         app's router left its template in the environ (Bottle's
                         ``environ["bottle.route"].rule``, Flask's ``url_rule`` of
                         ``environ["werkzeug.request"]``, read at ``start_response``, also
                         when it comes as the server iterates a middleware's generator);
                         cut_short (the response did not all go out) and file_wrapper (see
                         below) only when true

Request ids: an in-process server model that already recorded ``request.queued`` puts the id in
``environ["gateway_tracer.req"]`` and the shim reuses it; otherwise the shim takes
``recorder.new_request_id()``. The environ is the server's own dict, changed only where PEP 3333
middleware must change it: ``wsgi.input`` becomes a recording wrapper, and
``environ["gateway_tracer.recorders"]`` lists the recorders recording the request, so that a shim
of one of them further in (the app instrumented twice) passes the request straight to its app:
each request is one request per recorder. So does a shim called for a request that an ASGI shim
of its recorder already records: a WSGI app mounted in an instrumented ASGI app through an
adapter (asgiref's ``WsgiToAsgi``, Starlette's or a2wsgi's ``WSGIMiddleware``) is called with an
environ the adapter built from the scope, on a thread that carries the ASGI request's context
(``tracer.shim.context.CURRENT``; the match is ``tracer.shim.asgi.records_environ``). The ASGI
request already records the thread hop, what was received and what was sent.

A ``start_response`` or ``write`` the app kept and calls after its request's ``request.end`` (from a
thread, or in a later request) is passed to the server unchanged and recorded as one ``WSGI-026``
violation of that request (when checking is on), nothing else. The status in ``request.end`` is
that of the last ``start_response`` call the server accepted, or 500 when the app raised before
any body chunk or ``write`` reached the server (which then answers with a 500 of its own).

``request.end`` comes when the server calls ``close()``; a server that never does gets it when it
drops the response iterable (``close_called: false``). A response that is an instance of the
server's own ``wsgi.file_wrapper`` is passed back as that instance so the server can still send
the file its own way (sendfile), with only its ``close`` replaced on the instance: no
``wsgi.body`` events, the request lasts until the server's close (``file_wrapper: true``) and
``bytes_out`` is what the server sends (``tracer.shim.wsgi_body.file_length``).

The app is called from the cycle's frame, which must be around the call to record what the
app raises: an app's ``warnings.warn(..., stacklevel=2)`` names that frame where, without the
shim, it names the server's (Python 3.11's ``warnings`` skips no frame of ours; docs/rules.md,
Limits, says why the shim leaves it so).

Per-request state lives in a ``WsgiCycle`` (``tracer.shim.wsgi_cycle``), never on the shim. A failure inside the shim is
logged once per place and the request goes on. Imports the spine, ``tracer.conformance`` and
sibling shim modules; never the TUI, exporters, server models or CLI.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any

from tracer import conformance
from tracer.errors import UsageError
from tracer.recorder import Recorder
from tracer.redact import header_verdicts, redact_path, redact_query, secret_header_names
from tracer.shim import greenlets, hops
from tracer.shim.context import CURRENT
from tracer.shim.routes_apps import wsgi_router
from tracer.shim.wsgi_cycle import REQ_KEY, TRACED_KEY, WsgiCycle

__all__ = ["WsgiShim", "WsgiCycle", "NestedWsgiRequest", "REQ_KEY", "TRACED_KEY"]

log = logging.getLogger("tracer")

_current = CURRENT.get
_set_current = CURRENT.set
_reset_current = CURRENT.reset

START_KEYS = (
    "method",
    "path",
    "query",
    "http_version",
    "scheme",
    "client",
    "server",
    "interface",
    "scope_type",
    "headers:pairs",
)
"""Field names of the packed ``request.start`` row (``tracer.events.unpack_row``): the headers
travel as one flat tuple, so the row holds no container the GC would have to follow."""

# Key layouts of environs seen -> their headers. Bounded, so clients sending ever new header
# sets cannot grow it without limit (past it, each request works its headers out afresh).
_PLAN_CACHE_SIZE = 512


class NestedWsgiRequest:
    """The request current while a WSGI app call runs, when another recorder's request was
    current where the shim was called (shims of several recorders nested, or a WSGI app
    mounted through an adapter in an ASGI app traced by another recorder): ``outer`` links to
    it, so that work handed to other threads is a hop of each (``each_recorder``). Without
    one, the cycle itself is the current request."""

    __slots__ = ("req", "recorder", "cycle", "outer")

    def __init__(self, cycle: WsgiCycle, outer: Any) -> None:
        self.req = cycle.req
        self.recorder = cycle.recorder
        self.cycle = cycle
        self.outer = outer

    @property
    def tid(self) -> int:
        """The thread the request's own events are recorded on now: the app call's, then
        the one the server iterates the response on, if it moved it (``switch_thread``)."""
        return self.cycle.tid

    def __repr__(self) -> str:
        return f"<WSGI request {self.req} inside {self.outer!r}>"


def _path_text(path: str) -> str:
    """A WSGI path as the text an ASGI server gives in ``scope["path"]`` (``/café``).

    PEP 3333 carries ``SCRIPT_NAME`` and ``PATH_INFO`` as "bytes in a str", one latin-1
    character per byte: recorded as they are, ``/café`` would read ``/cafÃ©``, and the same
    request would be recorded differently by the WSGI and the ASGI shim. Bytes that are not
    UTF-8 become U+FFFD, as uvicorn's and hypercorn's ``urllib.parse.unquote`` make them for the
    ASGI path (not ``surrogateescape``: a lone surrogate is no UTF-8 a recording can hold). A
    server that gave text instead (a character past U+00FF) has its path kept as given.
    """
    try:
        raw = path.encode("latin-1")
    except UnicodeEncodeError:
        return path
    return raw.decode("utf-8", "replace")


def _address_rewritten(environ: dict[str, Any], address: Any) -> bool:
    """Whether a proxy middleware further out replaced ``REMOTE_ADDR`` (Werkzeug's
    ``ProxyFix`` keeps the original in ``werkzeug.proxy_fix.orig``) but left ``REMOTE_PORT``,
    which is then the port of the proxy's connection, not of the client."""
    original = environ.get("werkzeug.proxy_fix.orig")
    if not isinstance(original, dict) or "REMOTE_ADDR" not in original:
        return False
    return bool(original["REMOTE_ADDR"] != address)


class WsgiShim:
    """A WSGI app that runs ``app`` and records what happens, changing nothing it sees.

    ``redact=False`` keeps every header and query value; ``redact_headers`` replaces the set of
    header names whose values are redacted; ``checks`` feeds a ``WsgiChecker`` per request.
    An unknown option is a ``UsageError`` (a misspelt option must not be silently ignored).
    """

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        *,
        recorder: Recorder,
        redact: bool = True,
        redact_headers: Iterable[str] | None = None,
        checks: bool = True,
        **options: Any,
    ) -> None:
        if options:
            names = ", ".join(sorted(options))
            raise UsageError(f"WsgiShim does not know the option(s) {names}; remove them.")
        self.app = app
        # Django's and Falcon's route, matched again by their router (None: any other app).
        self.router = wsgi_router(app)
        self.recorder = recorder
        self.redact = redact
        self.secret_headers = secret_header_names(redact, redact_headers)
        # Each header name's verdict (keep, secret, URL to redact), looked up as given: the
        # default names' memo is shared by every shim, and serves ``start_response`` too.
        self.verdicts = header_verdicts(self.secret_headers)
        self.checks = checks
        # The checker quotes header values in its findings: redacted as this shim redacts them.
        self.checker_factory: Callable[..., Any] | None = (
            functools.partial(conformance.WsgiChecker, verdicts=self.verdicts) if checks else None
        )
        self._logged: set[str] = set()
        self._plans: dict[tuple[str, ...], tuple[tuple[str, str, int, bool], ...]] = {}
        self._recorders = (recorder,)
        hops.install()
        # Served by gevent (patched): its greenlets' switches cut the requests into steps.
        greenlets.install()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        recorders = environ.get(TRACED_KEY)
        if recorders is not None and self.recorder in recorders:
            return self.app(environ, start_response)  # a shim further out records it
        outer = _current()  # None unless a shim of another request runs (one get on the hot path)
        if outer is not None and self._recorded_as_asgi(outer, environ, recorders):
            return self.app(environ, start_response)
        try:
            cycle = WsgiCycle(self, environ, start_response)
        except Exception as exc:
            self.internal_error("starting a request", exc)
            return self.app(environ, start_response)
        environ[TRACED_KEY] = self._recorders if recorders is None else (*recorders, self.recorder)
        # While the app is called, the request is current: work it hands to other threads is
        # its ``sched.thread`` there (``tracer.shim.hops``; a hop run back on this thread, its
        # ``tid``, is part of the request's own). The body made meanwhile keeps the value, and
        # sets it again while each chunk is made (``tracer.shim.wsgi_body``).
        token = _set_current(cycle if outer is None else NestedWsgiRequest(cycle, outer))
        try:
            return cycle.run(environ)
        finally:
            try:
                _reset_current(token)
            except ValueError:  # the app switched contexts under us; the value dies with it
                pass

    def _recorded_as_asgi(
        self, outer: Any, environ: dict[str, Any], recorders: tuple[Recorder, ...] | None
    ) -> bool:
        """Whether an ASGI shim of our recorder records this request (the WSGI app runs in it
        through an adapter); if so, the environ lists our recorder for shims further in."""
        # WSGI requests of other recorders current around us (shims nested) are passed by, to
        # the ASGI request they were called in, if any.
        while isinstance(outer, (WsgiCycle, NestedWsgiRequest)):
            outer = getattr(outer, "outer", None)
        if outer is None:
            return False
        # Only now: a WSGI-only process never imports the ASGI shim (and an ASGI request is
        # current only once it has been imported).
        from tracer.shim.asgi import records_environ

        try:
            if not records_environ(outer, self.recorder, environ):
                return False
            environ[TRACED_KEY] = (
                self._recorders if recorders is None else (*recorders, self.recorder)
            )
        except Exception as exc:
            self.internal_error("looking for an ASGI request around the call", exc)
            return False
        return True

    def settings(self) -> tuple[Any, ...]:
        """What this shim records and how: two shims of one recorder with equal settings
        record the same events (``tracer.instrument`` then returns the one it was given)."""
        return (self.redact, self.secret_headers, self.checks)

    def start_fields(self, environ: dict[str, Any]) -> tuple[Any, ...]:
        """The ``request.start`` data of an environ (what was asked, by whom, headers redacted)
        as the tail of a packed row: ``START_KEYS`` and their values."""
        # Requests from one kind of client carry the same environ keys in the same order, so
        # which keys are headers (and secret) is worked out once per key layout.
        layout = tuple(environ)
        plan = self._plans.get(layout)
        if plan is None:
            plan = self._plan(layout)
        headers: list[str] = []
        add = headers.append
        verdicts = self.verdicts
        for key, name, verdict, optional in plan:
            value = environ[key]
            if optional and not value:
                continue  # an empty CONTENT_LENGTH/CONTENT_TYPE is one the client did not send
            add(name)
            if verdict and verdicts is not None:  # a secret, or a URL to redact
                value = verdicts.hidden(verdict, name, value)
            add(value)
        query = environ.get("QUERY_STRING", "")
        if query and self.redact:
            query = redact_query(query)
        protocol = environ.get("SERVER_PROTOCOL", "")
        address = environ.get("REMOTE_ADDR")
        port = environ.get("REMOTE_PORT")
        if port and _address_rewritten(environ, address):
            # The port is the proxy hop's: with the forwarded address it names no endpoint.
            port = None
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        if not path.isascii():  # the usual path: ASCII reads the same as bytes or text
            path = _path_text(path)
        if ";" in path and self.redact:  # one substring test, usually
            path = redact_path(path)
        return (
            START_KEYS,
            environ.get("REQUEST_METHOD"),
            path,
            query,
            protocol[5:] if protocol[:5] == "HTTP/" else protocol,
            environ.get("wsgi.url_scheme"),
            f"{address}:{port}" if port else address,
            f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}",
            "wsgi",
            "http",
            tuple(headers),
        )

    def _plan(self, layout: tuple[str, ...]) -> tuple[tuple[str, str, int, bool], ...]:
        """(environ key, header name, verdict, absent when empty?) for each header among the
        keys of ``layout``: the verdict is the name's in ``verdicts``, 0 to keep the value.

        PEP 3333 lets ``CONTENT_TYPE`` and ``CONTENT_LENGTH`` be empty for a header the client
        did not send (wsgiref sets ``CONTENT_LENGTH=""`` on every request); an ``HTTP_*`` key
        exists only for a header that was sent, empty or not.
        """
        plan = []
        verdicts = self.verdicts
        for key in layout:
            if key[:5] == "HTTP_":
                name = key[5:].replace("_", "-").lower()
                optional = False
            elif key == "CONTENT_TYPE" or key == "CONTENT_LENGTH":
                name = key.replace("_", "-").lower()
                optional = True
            else:
                continue
            plan.append((key, name, verdicts[name] if verdicts is not None else 0, optional))
        result = tuple(plan)
        if len(self._plans) < _PLAN_CACHE_SIZE:
            self._plans[layout] = result
        return result

    def internal_error(self, where: str, exc: BaseException) -> None:
        """A failure of the shim itself: log it once per place; the request goes on."""
        if where in self._logged:
            return
        self._logged.add(where)
        log.error(
            "gateway-tracer: the WSGI shim failed while %s (the request goes on; "
            "further failures here are not logged)",
            where,
            exc_info=exc,
        )

    def __repr__(self) -> str:
        return f"<WsgiShim of {self.app!r}>"

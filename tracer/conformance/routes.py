"""The paths ``trace check`` probes when none are given: the app's own routes.

``discover_routes(app)`` looks through the middleware an app is wrapped in (anything that keeps
the app it wraps as ``.app``, our shims included) for a router it knows, and lists a path to
probe for each route: Flask's ``url_map`` rules, Starlette's and FastAPI's ``routes`` (``Mount``
prefixes followed into the mounted app; a FastAPI ``include_router`` entry opened into its
routes, each with its full path, by FastAPI's ``iter_route_contexts`` where FastAPI has it),
with the methods each declares (``PROBED_METHODS``).
A path parameter gets a value its converter accepts (``1`` for ``int``, ``str`` and ``path``;
``1.0`` for ``float``, which Werkzeug wants with a dot; the nil UUID for ``uuid``; the first
word of Werkzeug's ``any``); a FastAPI route's plain ``{name}`` gets one its annotation accepts,
read from the signatures of the endpoint and its dependencies (``route_params``). So the probe
reaches the handler whenever a plain value can; where nothing can be read, ``1``. Routes that
need a host name (Starlette ``Host``) are left out. Nothing of the app is called: only its
route tables and signatures are read (a Starlette ``HTTPEndpoint`` class is probed with the
methods it has a handler for). Only the frameworks' public objects are read. Imports nothing
of ours but ``route_params``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tracer.conformance.route_params import NIL_UUID, path_param_samples

__all__ = ["Routes", "discover_routes", "MAX_PATHS", "PROBED_METHODS"]

MAX_PATHS = 40
"""At most this many paths of each kind are probed: a check stays a few seconds long."""

PROBED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
"""The declared methods a route is probed with (HEAD and OPTIONS are the framework's own)."""

# A value each converter accepts, by converter name (any other: "1").
_SAMPLES = {"uuid": NIL_UUID, "float": "1.0"}
# Starlette: {name} or {name:convertor}. Werkzeug: <name>, <conv:name> or <conv(args):name>.
_STARLETTE_PARAM = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_]+))?}")
_WERKZEUG_PARAM = re.compile(
    r"<(?:([A-Za-z_][A-Za-z0-9_]*)(?:\(([^)]*)\))?:)?([A-Za-z_][A-Za-z0-9_]*)>"
)


@dataclass
class Routes:
    """What was found: the framework's name and the paths to probe, HTTP and websocket."""

    framework: str
    http: list[str] = field(default_factory=list)
    websocket: list[str] = field(default_factory=list)
    total: int = 0
    """Paths found before the ``MAX_PATHS`` cut."""
    methods: dict[str, list[str]] = field(default_factory=dict)
    """HTTP path -> the methods its routes declare (``PROBED_METHODS`` order); a path with no
    entry declared none (any method): it gets the default probes."""

    def add(
        self, path: str, *, websocket: bool = False, methods: Iterable[str] | None = None
    ) -> None:
        """List ``path`` once (a route reached two ways is probed once), with its methods
        (several routes of one path, ``@get`` and ``@post``, add up)."""
        paths = self.websocket if websocket else self.http
        if not websocket and methods is not None:
            declared = set(self.methods.get(path, ())) | {m.upper() for m in methods}
            self.methods[path] = [m for m in PROBED_METHODS if m in declared]
        if path in paths:
            return
        self.total += 1
        if len(paths) < MAX_PATHS:
            paths.append(path)

    @property
    def truncated(self) -> bool:
        """True when some routes were left out (``MAX_PATHS``)."""
        return self.total > len(self.http) + len(self.websocket)


def discover_routes(app: Any) -> Routes | None:
    """The routes of ``app`` (or of an app it wraps), or None when no known router is found."""
    for candidate in _wrapped(app):
        url_map = _attribute(candidate, "url_map")
        if url_map is not None and callable(getattr(url_map, "iter_rules", None)):
            return _werkzeug_routes(url_map)
        routing = sys.modules.get("starlette.routing")
        routes = _attribute(candidate, "routes")
        if routing is not None and isinstance(routes, list) and _is_starlette(candidate, routing):
            found = Routes("starlette")
            _starlette_routes(routes, "", routing, found, depth=0)
            return found
    return None


def _attribute(obj: Any, name: str) -> Any:
    # Route tables are plain attributes or properties; one that raises is not a route table.
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


def _wrapped(app: Any) -> Iterator[Any]:
    """``app`` and what it wraps: ``.app`` (middleware, our shims), ``.wsgi_application``
    (asgiref's ``WsgiToAsgi``), a bound method's owner."""
    seen: set[int] = set()
    current = app
    while current is not None and id(current) not in seen and len(seen) < 32:
        seen.add(id(current))
        yield current
        inner = _attribute(current, "app")
        if inner is None:
            inner = _attribute(current, "wsgi_application")  # asgiref's WsgiToAsgi
        if inner is None:
            inner = _attribute(current, "__self__")  # Flask's wsgi_app, a bound method
        current = inner


def _is_starlette(obj: Any, routing: Any) -> bool:
    router = obj if isinstance(obj, routing.Router) else _attribute(obj, "router")
    return isinstance(router, routing.Router)


def _starlette_routes(
    routes: list[Any], prefix: str, routing: Any, found: Routes, *, depth: int
) -> None:
    for kind, route in _served(routes):
        if isinstance(kind, routing.WebSocketRoute):
            found.add(prefix + _fill_starlette(_attribute(route, "path"), route), websocket=True)
        elif isinstance(kind, routing.Route):
            methods = _attribute(route, "methods")
            if methods is None:  # an endpoint class (HTTPEndpoint): the methods it defines
                methods = _endpoint_methods(_attribute(route, "endpoint"))
            found.add(prefix + _fill_starlette(_attribute(route, "path"), route), methods=methods)
        elif isinstance(kind, routing.Mount):
            path = _attribute(route, "path")
            mounted = prefix + (_fill_starlette(path) if isinstance(path, str) else "")
            inner = _attribute(route, "routes") if depth < 8 else None
            if inner:
                _starlette_routes(list(inner), mounted, routing, found, depth=depth + 1)
            else:  # an app of its own (StaticFiles, a WSGI app): its root
                found.add(mounted + "/")


def _served(routes: list[Any]) -> Iterator[tuple[Any, Any]]:
    """(what a route is, what to read it through) for each route of ``routes`` as the app
    serves it. FastAPI keeps a router given to ``include_router`` as one entry of ``routes``,
    with no path of its own; its public ``fastapi.routing.iter_route_contexts`` opens it into
    one context per route, which reads as that route with the prefixes applied (``path``,
    ``methods``, ``endpoint``, the routers' ``dependencies`` added to the route's), while
    ``original_route`` says what kind of route it is. A FastAPI without it copied the routes
    into ``routes`` at the include, so they are read as they are."""
    contexts = getattr(sys.modules.get("fastapi.routing"), "iter_route_contexts", None)
    if contexts is not None:
        try:
            served = [(_attribute(c, "original_route"), c) for c in contexts(routes)]
        except Exception:  # a route table it cannot open: every plain route is still there
            served = []
        if served:
            return iter(served)
    return ((route, route) for route in routes)


def _endpoint_methods(endpoint: Any) -> list[str] | None:
    """The methods a Starlette endpoint class answers: those it has a handler for (``get``,
    ``put``: ``HTTPEndpoint`` dispatches on the method's lowercase name), or None (any)."""
    if not isinstance(endpoint, type):
        return None
    methods = [
        method for method in PROBED_METHODS if callable(getattr(endpoint, method.lower(), None))
    ]
    return methods or None


def _fill_starlette(path: Any, route: Any = None) -> str:
    if not isinstance(path, str):
        return "/"
    # FastAPI knows each path parameter's annotation ({user_id} as uuid.UUID): use it.
    names = [match.group(1) for match in _STARLETTE_PARAM.finditer(path) if not match.group(2)]
    typed = path_param_samples(route, names) if route is not None and names else {}

    def value(match: re.Match[str]) -> str:
        convertor = match.group(2)
        if convertor:
            return _SAMPLES.get(convertor, "1")
        return typed.get(match.group(1), "1")

    return _STARLETTE_PARAM.sub(value, path)


def _werkzeug_routes(url_map: Any) -> Routes:
    found = Routes("flask" if "flask" in sys.modules else "werkzeug")
    for rule in url_map.iter_rules():
        if getattr(rule, "host", None):
            continue  # needs a host name
        path = _WERKZEUG_PARAM.sub(_fill_werkzeug, rule.rule)
        websocket = bool(getattr(rule, "websocket", False))
        found.add(path, websocket=websocket, methods=getattr(rule, "methods", None))
    return found


def _fill_werkzeug(match: re.Match[str]) -> str:
    converter, arguments = match.group(1), match.group(2)
    if converter == "any" and arguments:
        return arguments.split(",")[0].strip().strip("'\"") or "1"
    return _SAMPLES.get(converter or "", "1")

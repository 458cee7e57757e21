"""The paths ``trace check`` probes when none are given: the app's own routes.

``discover_routes(app)`` looks through the middleware an app is wrapped in (anything that keeps
the app it wraps as ``.app`` or ``.application``, our shims included) for a router it knows,
and lists a path to probe for each route: Flask's and Quart's ``url_map`` rules, Starlette's
and FastAPI's ``routes`` (``Mount`` prefixes followed into the mounted app; a FastAPI
``include_router`` entry opened into its routes, each with its full path, by FastAPI's
``iter_route_contexts`` where FastAPI has it), and the route tables of Litestar, Bottle and
Sanic (``routes_listed``), Falcon (``routes_falcon``) and Django (``routes_django``), with the
methods each declares (``PROBED_METHODS``).
A path parameter gets a value its converter accepts (``1`` for ``int``, ``str`` and ``path``;
``1.0`` for ``float``, which Werkzeug wants with a dot; the nil UUID for ``uuid``; the first
word of Werkzeug's ``any``); a FastAPI route's plain ``{name}`` gets one its annotation accepts,
read from the signatures of the endpoint and its dependencies (``route_params``). So the probe
reaches the handler whenever a plain value can; where nothing can be read, ``1``. Routes that
need a host name (Starlette ``Host``) are left out. Nothing of the app is called: only its
route tables and signatures are read (a Starlette ``HTTPEndpoint`` class is probed with the
methods it has a handler for). Only the frameworks' public objects are read. Imports nothing
of ours but ``route_set``, ``route_params`` and the ``routes_*`` readers.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from typing import Any

from tracer.conformance.route_params import NIL_UUID, path_param_samples
from tracer.conformance.route_set import MAX_PATHS, PROBED_METHODS, Routes
from tracer.conformance.routes_django import django_routes
from tracer.conformance.routes_falcon import falcon_routes
from tracer.conformance.routes_listed import bottle_routes, litestar_routes, sanic_routes

__all__ = ["Routes", "discover_routes", "MAX_PATHS", "PROBED_METHODS"]

# A value each converter accepts, by converter name (any other: "1").
_SAMPLES = {"uuid": NIL_UUID, "float": "1.0"}
# Starlette: {name} or {name:convertor}. Werkzeug: <name>, <conv:name> or <conv(args):name>.
_STARLETTE_PARAM = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_]+))?}")
_WERKZEUG_PARAM = re.compile(
    r"<(?:([A-Za-z_][A-Za-z0-9_]*)(?:\(([^)]*)\))?:)?([A-Za-z_][A-Za-z0-9_]*)>"
)

_READERS: tuple[Callable[[Any], Routes | None], ...] = (
    litestar_routes,
    falcon_routes,
    bottle_routes,
    sanic_routes,
    django_routes,
)
"""The readers of the other frameworks' route tables: each gives None for an app not its own."""


def discover_routes(app: Any) -> Routes | None:
    """The routes of ``app`` (or of an app it wraps), or None when no known router is found."""
    for candidate in _wrapped(app):
        url_map = _attribute(candidate, "url_map")
        if url_map is not None and callable(getattr(url_map, "iter_rules", None)):
            return _werkzeug_routes(url_map, _werkzeug_framework(candidate))
        routing = sys.modules.get("starlette.routing")
        routes = _attribute(candidate, "routes")
        if routing is not None and isinstance(routes, list) and _is_starlette(candidate, routing):
            found = Routes("starlette", serves_websockets=True)
            _starlette_routes(routes, "", routing, found, depth=0)
            return found
        for read in _READERS:
            listed = read(candidate)
            if listed is not None:
                return listed
    return None


def _attribute(obj: Any, name: str) -> Any:
    # Route tables are plain attributes or properties; one that raises is not a route table.
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


def _wrapped(app: Any) -> Iterator[Any]:
    """``app`` and what it wraps: ``.app`` (middleware, our shims), ``.wsgi_application``
    (asgiref's ``WsgiToAsgi``), ``.application`` (WhiteNoise, Django's static files
    handlers), a bound method's owner."""
    seen: set[int] = set()
    current = app
    while current is not None and id(current) not in seen and len(seen) < 32:
        seen.add(id(current))
        yield current
        inner = _attribute(current, "app")
        if inner is None:
            inner = _attribute(current, "wsgi_application")  # asgiref's WsgiToAsgi
        if inner is None:
            inner = _attribute(current, "application")  # WhiteNoise, Django's static handlers
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


def _werkzeug_framework(app: Any) -> str:
    """Whose ``url_map`` this is: the package of the app's class (``flask``, ``quart``)."""
    package = type(app).__module__.partition(".")[0]
    if package in ("flask", "quart"):
        return package
    # A subclass of the app class in the user's module: the framework it comes from.
    for kind in type(app).__mro__:
        package = kind.__module__.partition(".")[0]
        if package in ("quart", "flask"):
            return package
    return "werkzeug"


def _werkzeug_routes(url_map: Any, framework: str) -> Routes:
    # Quart routes websocket scopes itself (its rules with ``websocket=True``); Flask is WSGI.
    found = Routes(framework, serves_websockets=framework == "quart")
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

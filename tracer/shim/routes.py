"""The route template of a request: what ``request.end`` records as ``route``.

Starlette and FastAPI leave the matched route in ``scope["route"]``; its ``path`` is a template
relative to the router that matched it. Under a ``Mount`` that is only the tail: GET
``/api/items/1`` through ``Mount("/api", routes=[Route("/items/{n}", ...)])`` ends with the
``Route`` in the scope, and the full template (OpenTelemetry's ``http.route``) is
``/api/items/{n}``. Starlette keeps no list of the mounts a request went through (each router
overwrites ``scope["route"]``), but every ``Mount`` that matches sets
``scope["app_root_path"]``. So a request of an app without mounts costs two dict lookups here
(that key and FastAPI's, below); under mounts, the chain of mounts leading to the route is found by walking the route
tree down from ``scope["router"]`` (the outermost router) once per route object and remembered
(``RouteTemplates``). When the same route is reachable through several mounts (one sub-app
mounted twice), the mounts' own path patterns pick the chain that matches this request.

FastAPI's ``include_router`` prefixes are not mounts: FastAPI puts the included route's full
template on the route context it leaves under ``scope["fastapi"]``, which is used when it is
the context of the very route in ``scope["route"]``.

Litestar's router leaves the whole template in ``scope["path_template"]`` (a string, its
``Router`` and ``Controller`` prefixes included, parameters without their types:
``/api/items/{item_id}`` for ``/items/{item_id:int}`` under ``Router(path="/api")``), relative
to the ``root_path`` it strips from the path. It sets it once a route matched (not for a 404 or
405), and to ``""`` for a request handed to a mounted ASGI app (``@asgi(..., is_mount=True)``):
that is no template, so no route. A Litestar app under a Starlette ``Mount`` gets the mount
chain's template before its own (``of_scope``).

Bottle (WSGI) leaves the matched ``Route`` in ``environ["bottle.route"]``; its ``rule`` is the
template in Bottle's own syntax (``/items/<item_id:int>``), a child app mounted with
``mount("/prefix/", child)`` included (Bottle copies its routes into the parent with the prefix
put before their rules). A child mounted as a plain WSGI app (a prefix without the trailing
slash, which Bottle 0.13 deprecates) overwrites the parent's route with its own, whose rule is
relative to the mount point (``rule_of``).

Flask (WSGI) keeps its route on its request object, which Werkzeug's ``Request`` puts in
``environ["werkzeug.request"]`` when it is made (``populate_request``); Flask's router leaves
the matched ``werkzeug.routing.Rule`` on it as ``url_rule`` (None for a 404 or a 405), whose
``rule`` is the template in Werkzeug's syntax (``/items/<int:item_id>``), a blueprint's
``url_prefix`` included. Flask sets the key to None before its app call returns, so the WSGI
shim reads it when the app calls ``start_response`` (an exception Flask passes on to the server
starts no response: no route). An app mounted with Werkzeug's ``DispatcherMiddleware`` has its
rules relative to the mount point (``url_rule_of``). A plain Werkzeug request has no
``url_rule``: no route. Django, Falcon, Quart and Sanic leave nothing in the environ or scope:
their route is on their request object only (``tracer.shim.routes_apps``).

Duck-typed on the frameworks' objects (``routes``, ``path``, ``path_regex``, ``app``, ``rule``,
``url_rule``):
imports no framework and nothing of the tracer; never the TUI, exporters, server models or CLI.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, MutableMapping
from typing import Any

__all__ = ["RouteTemplates", "rule_of", "url_rule_of"]

log = logging.getLogger("tracer")

_CACHE_SIZE = 1024
"""Routes whose mount chains are remembered (routes live as long as their app: this is a bound
against apps that make route objects per request, not a working set)."""
_MAX_DEPTH = 32
"""How deep mounts may nest before the walk gives up on a branch."""
_MAX_WRAPPERS = 16
"""How many ``.app`` links (middleware, a shim) the walk follows to reach an app's routes."""

Chain = tuple[str, tuple[Any, ...]]
"""The template prefix of a chain of mounts (``/api/users/{uid}``) and the mounts themselves."""


class RouteTemplates:
    """Works out the full route template of requests, remembering mount chains per route."""

    def __init__(self) -> None:
        # id(route) -> (route, its distinct chains): the route is kept so that an id reused
        # after the route was collected is never mistaken for it.
        self._chains: dict[int, tuple[Any, tuple[Chain, ...]]] = {}
        self._failed = False

    def of_scope(
        self, scope: MutableMapping[str, Any], route: Any, path_template: Any
    ) -> str | None:
        """The full path template of the request of ``scope`` once the app returned, from what
        the routers left there: ``route`` (``scope["route"]``: Starlette, FastAPI) and
        ``path_template`` (``scope["path_template"]``: Litestar), either or both not None."""
        if type(path_template) is not str or not path_template:
            # No Litestar template (or a Litestar mount's ""): Starlette's route, if any.
            return None if route is None else self.template(scope, route)
        if route is None:
            return path_template
        try:
            mounted = hasattr(route, "path_regex") and _holds_routes(route)
        except Exception:  # an odd route object: Litestar's template alone
            return path_template
        if not mounted:
            return path_template
        # A Litestar app mounted in Starlette: Litestar matched the path below the Mount (it
        # strips the root_path the Mount set), so the mount chain's template comes first.
        prefix = self.template(scope, route)
        return path_template if prefix is None else prefix + path_template

    def template(self, scope: MutableMapping[str, Any], route: Any) -> str | None:
        """The full path template of ``route``, the route that handled ``scope`` (what the
        router left in ``scope["route"]``), or None when it has no path template."""
        template = None
        try:
            template = getattr(route, "path", None)
            if not isinstance(template, str):
                return None
            included = scope.get("fastapi")
            if included:
                template = _included_template(included, route, template)
            if "app_root_path" not in scope:
                return template  # no Mount matched: the route's own template is the whole
            return self._mounted(scope, route, template)
        except Exception as exc:  # a framework we do not know: its own template will do
            if not self._failed:
                self._failed = True
                log.warning("gateway-tracer: finding the mounts of route %r failed: %r", route, exc)
            return template

    def _mounted(self, scope: MutableMapping[str, Any], route: Any, template: str) -> str:
        cached = self._chains.get(id(route))
        if cached is not None and cached[0] is route:
            chains = cached[1]
        else:
            chains = _chains_to(scope.get("router"), route)
            if len(self._chains) < _CACHE_SIZE:
                self._chains[id(route)] = (route, chains)
        if not chains:
            return template  # not found under the router (an app wrapped in an unknown way)
        if len(chains) == 1:
            return chains[0][0] + template
        prefix = _pick(chains, scope)
        return template if prefix is None else prefix + template


def _included_template(included: Any, route: Any, template: str) -> str:
    """FastAPI: the template with the ``include_router`` prefixes, when its context is ours."""
    context = included.get("effective_route_context") if isinstance(included, dict) else None
    if context is None or getattr(context, "original_route", None) is not route:
        return template
    full = getattr(context, "path", None)
    return full if isinstance(full, str) else template


def _routes_of(node: Any) -> Iterable[Any]:
    """The routes below an app, a ``Mount`` or a ``Host``: through middleware and shims that
    keep the app they wrap as ``.app``, and through FastAPI's included routers."""
    for _ in range(_MAX_WRAPPERS):
        routes = getattr(node, "routes", None)
        if isinstance(routes, list | tuple) and routes:
            return routes
        included = getattr(node, "original_router", None)
        if included is not None:
            routes = getattr(included, "routes", None)
            return routes if isinstance(routes, list | tuple) else ()
        node = getattr(node, "app", None)
        if node is None:
            break
    return ()


def _chains_to(router: Any, target: Any) -> tuple[Chain, ...]:
    """Every distinct template prefix under which ``target`` sits below ``router``."""
    found: dict[str, tuple[Any, ...]] = {}

    def walk(
        routes: Iterable[Any], prefix: str, mounts: tuple[Any, ...], seen: frozenset[int]
    ) -> None:
        for route in routes:
            if route is target:
                found.setdefault(prefix, mounts)
            elif len(mounts) < _MAX_DEPTH and _holds_routes(route):
                below = _routes_of(route)
                if id(below) in seen:
                    continue  # an app mounted inside itself
                # A Mount adds its path; a Host, or a FastAPI included router (whose route
                # contexts already carry the prefix), adds nothing.
                path = getattr(route, "path", "") if hasattr(route, "path_regex") else ""
                walk(below, prefix + path, (*mounts, route), seen | {id(below)})

    if router is not None:
        routes = _routes_of(router)
        walk(routes, "", (), frozenset({id(routes)}))
    return tuple(found.items())


def _holds_routes(route: Any) -> bool:
    return hasattr(route, "routes") or hasattr(route, "original_router")


def _pick(chains: tuple[Chain, ...], scope: MutableMapping[str, Any]) -> str | None:
    """The prefix of the chain whose mounts match this request's path, as the routers did."""
    path = scope.get("path") or ""
    base = scope.get("app_root_path") or ""
    if base and path.startswith(base):
        path = path[len(base) :]  # what the outermost router matched against
    for prefix, mounts in chains:
        rest = path
        for mount in mounts:
            regex = getattr(mount, "path_regex", None)
            if regex is None:
                continue  # a Host or an included router: the path goes on unchanged
            match = regex.match(rest)
            if match is None:
                break
            rest = "/" + match.group("path")
        else:
            return prefix
    return None


def rule_of(route: Any) -> str | None:
    """The template of a Bottle ``Route`` (``environ["bottle.route"]``): its ``rule``, or None
    when it has no string one (never raises: an odd object is no route)."""
    try:
        rule = route.rule
    except Exception:
        return None
    return rule if type(rule) is str and rule else None


def url_rule_of(request: Any) -> str | None:
    """The template of a Flask request (``environ["werkzeug.request"]``): the ``rule`` of its
    ``url_rule``, or None when it has no string one (never raises: an odd object is no
    route)."""
    try:
        url_rule = getattr(request, "url_rule", None)
        if url_rule is None:  # a 404, a 405, or a plain Werkzeug request: checked, not raised
            return None
        rule = url_rule.rule
    except Exception:
        return None
    return rule if type(rule) is str and rule else None

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

Duck-typed on the frameworks' objects (``routes``, ``path``, ``path_regex``, ``app``): imports
no framework and nothing of the tracer; never the TUI, exporters, server models or CLI.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, MutableMapping
from typing import Any

__all__ = ["RouteTemplates"]

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

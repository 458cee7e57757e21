"""The route template of a request of a Django, Falcon, Quart or Sanic app.

These frameworks leave their matched route on a request object of their own, which the
environ or scope does not hold (unlike Bottle's, Flask's, Starlette's and Litestar's:
``tracer.shim.routes``). So the app the shim wraps is looked at once, when the shim is made
(``wsgi_router`` and ``asgi_router``, through middleware that keeps the app it wraps as
``.app`` or ``.application``): for an app of none of them the shim gets None and a request
costs it nothing; for one of them a function that gives a request's template:

- Django (WSGI ``WSGIHandler``, ASGI ``ASGIHandler``): the path is resolved again by the URL
  resolver Django used (``get_resolver(get_urlconf())``: a middleware's ``request.urlconf``
  too, for a WSGI request, asked while the app starts its response), and the template is the
  match's ``route``, as ``opentelemetry-instrumentation-django`` records it: relative, the
  ``include()`` prefixes joined before it (``api/items/<int:pk>``), a ``re_path`` as its
  pattern (``^old/(?P<pk>[0-9]+)/$``). A path Django does not resolve (a 404, or a redirect
  to the path with a slash) has none; an empty route (``path("", ...)``) is none either, as
  in OpenTelemetry.
- Falcon (``falcon.App``, ``falcon.asgi.App``): the app's router finds the path again
  (``_router_search``: a custom router too), as Falcon does for its request, and the template
  is the route's ``uri_template`` (what ``req.uri_template`` holds, and OpenTelemetry's Falcon
  instrumentation records), suffixed responders included. A path no route matches (a sink, a
  static route, a 404) and a method the resource has no responder for (Falcon's 405) have none.
- Quart: the app's ``url_map`` matches the path and method again (Werkzeug's ``MapAdapter``,
  as Quart's request context does), and the template is the rule's ``rule`` (a blueprint's
  ``url_prefix`` included), as for Flask. A 404, a 405 and a redirect (a missing slash) have
  none.
- Sanic (ASGI): Sanic keeps the request it made in a context variable of its ``Request``
  class (``Request.get_current``), set in the very context the shim awaits the app in; the
  template is its ``uri_template`` (``/items/<item_id:int>``), None when no route matched.

Matching again costs a request of these apps what its router took (microseconds): it is asked
only once the app has started its response (WSGI) or returned (ASGI). Duck-typed on the
frameworks' objects and the modules their apps already imported (``sys.modules``): imports no
framework and nothing of the tracer.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Router", "asgi_router", "wsgi_router"]

log = logging.getLogger("tracer")

Router = Callable[[Mapping[str, Any]], "str | None"]
"""A request's environ (WSGI) or scope (ASGI) -> its route template, or None."""

_MAX_WRAPPERS = 16
"""How many ``.app`` / ``.application`` links are followed to reach the framework's app."""

# (module, class name) of each framework's app class -> its kind.
_APPS = {
    ("django.core.handlers.wsgi", "WSGIHandler"): "django",
    ("django.core.handlers.asgi", "ASGIHandler"): "django",
    ("falcon.app", "App"): "falcon",
    ("falcon.asgi.app", "App"): "falcon",
    ("quart.app", "Quart"): "quart",
    ("sanic.app", "Sanic"): "sanic",
}


def _kind(app: Any) -> tuple[str, Any] | None:
    """The framework of ``app``, or of the app it wraps, and that app; None for another."""
    for _ in range(_MAX_WRAPPERS):
        try:
            for cls in type(app).__mro__:
                kind = _APPS.get((cls.__module__, cls.__qualname__))
                if kind is not None:
                    return kind, app
            inner = getattr(app, "app", None)
            if inner is None:
                inner = getattr(app, "application", None)
        except Exception:  # an odd object: no framework we know
            return None
        if inner is None or inner is app:
            return None
        app = inner
    return None


def wsgi_router(app: Any) -> Router | None:
    """The function giving the route of a WSGI request of ``app`` from its environ (read
    while the app starts its response), or None when ``app`` is no Django or Falcon app."""
    found = _kind(app)
    if found is None:
        return None
    kind, inner = found
    if kind == "django":
        return _Guarded(_django_wsgi)
    if kind == "falcon":
        return _Guarded(_FalconRoutes(inner, asgi=False))
    return None


def asgi_router(app: Any) -> Router | None:
    """The function giving the route of an ASGI request of ``app`` from its scope (read once
    the app returned), or None when ``app`` is no Django, Falcon, Quart or Sanic app."""
    found = _kind(app)
    if found is None:
        return None
    kind, inner = found
    if kind == "django":
        return _Guarded(_http_only(_django_asgi))
    if kind == "falcon":
        return _Guarded(_http_only(_FalconRoutes(inner, asgi=True)))
    if kind == "quart":
        return _Guarded(_http_only(_QuartRoutes(inner)))
    if kind == "sanic":
        return _Guarded(_http_only(_SanicRoutes(inner)))
    return None


class _Guarded:
    """A router that never raises: a failure is no route, logged once."""

    def __init__(self, route_of: Router) -> None:
        self._route_of = route_of
        self._failed = False

    def __call__(self, request: Mapping[str, Any]) -> str | None:
        try:
            route = self._route_of(request)
        except Exception as exc:
            if not self._failed:
                self._failed = True
                log.warning("gateway-tracer: finding the route of a request failed: %r", exc)
            return None
        return route if type(route) is str and route else None


def _http_only(route_of: Router) -> Router:
    """``route_of`` for HTTP scopes; None for a lifespan or a WebSocket scope."""

    def routed(scope: Mapping[str, Any]) -> str | None:
        return route_of(scope) if scope.get("type") == "http" else None

    return routed


# -- Django ---------------------------------------------------------------------------------


def _django_route(path_info: str) -> str | None:
    urls = sys.modules.get("django.urls")
    if urls is None:
        return None
    resolver = urls.get_resolver(urls.get_urlconf())
    try:
        match = resolver.resolve(path_info)
    except urls.Resolver404:
        return None
    route = getattr(match, "route", None)
    return route if isinstance(route, str) else None


def _django_wsgi(environ: Mapping[str, Any]) -> str | None:
    handlers = sys.modules.get("django.core.handlers.wsgi")
    if handlers is None:
        return None
    return _django_route(handlers.get_path_info(environ))  # decoded as Django decodes it


def _django_asgi(scope: Mapping[str, Any]) -> str | None:
    path = scope.get("path")
    if not isinstance(path, str):
        return None
    root = scope.get("root_path") or ""
    # As Django's ASGIRequest makes its path_info.
    return _django_route(path.removeprefix(root) if root else path)


# -- Falcon ---------------------------------------------------------------------------------


class _FalconRoutes:
    """The ``uri_template`` of the route Falcon's router finds for a request's path."""

    def __init__(self, app: Any, *, asgi: bool) -> None:
        self._app = app
        self._asgi = asgi

    def __call__(self, request: Mapping[str, Any]) -> str | None:
        app = self._app
        if self._asgi:
            path = request.get("path") or "/"  # Falcon's ASGI request routes the whole path
            method = request.get("method")
        else:
            path = request.get("PATH_INFO") or "/"
            if not path.isascii():  # as Falcon's WSGI request decodes it
                path = path.encode("iso-8859-1").decode("utf-8", "replace")
            method = request.get("REQUEST_METHOD")
        options = getattr(app, "req_options", None)
        if getattr(options, "strip_url_path_trailing_slash", False) and len(path) > 1:
            path = path.removesuffix("/")
        found = app._router_search(path, req=None)
        if found is None or len(found) < 4 or found[0] is None:
            return None  # no route (a sink, a static route, a 404), or a router of no templates
        method_map = found[1]
        responder = method_map.get(method) if isinstance(method_map, dict) else None
        if responder is None or getattr(responder, "__module__", None) == "falcon.responders":
            return None  # Falcon's own 405 (or OPTIONS) responder: the method found no route
        template: str | None = found[3]
        return template


# -- Quart ----------------------------------------------------------------------------------


class _QuartRoutes:
    """The ``rule`` of the Werkzeug rule a Quart app's ``url_map`` matches for a request."""

    def __init__(self, app: Any) -> None:
        self._app = app

    def __call__(self, scope: Mapping[str, Any]) -> str | None:
        url_map = self._app.url_map
        host = "localhost"
        for name, value in scope.get("headers") or ():
            if name == b"host":
                host = value.decode("latin-1").lower()
                break
        path = scope.get("path") or "/"
        root = scope.get("root_path") or ""
        if root and path.startswith(root):
            path = path[len(root) :] or "/"  # as Quart's request strips its root_path
        adapter = url_map.bind(
            host,
            script_name=root or None,
            url_scheme=scope.get("scheme") or "http",
            default_method=scope.get("method") or "GET",
            path_info=path,
        )
        try:
            rule, _ = adapter.match(return_rule=True)
        except Exception:  # NotFound, MethodNotAllowed, RequestRedirect: no route
            return None
        template: str | None = getattr(rule, "rule", None)
        return template


# -- Sanic ----------------------------------------------------------------------------------


class _SanicRoutes:
    """The ``uri_template`` of the request Sanic made for this scope."""

    def __init__(self, app: Any) -> None:
        self._current = app.request_class._current  # Sanic's context variable of requests

    def __call__(self, scope: Mapping[str, Any]) -> str | None:
        request = self._current.get(None)
        if (
            request is None
            or getattr(getattr(request, "transport", None), "scope", scope) is not scope
        ):
            return None  # no request of this scope (Sanic answered before making one)
        template: str | None = request.uri_template
        return template

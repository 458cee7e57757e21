"""The routes of a Django app: the URL resolver of its ``ROOT_URLCONF``.

A ``get_wsgi_application()`` or ``get_asgi_application()`` handler (a ``BaseHandler``) keeps
no URL table of its own: it resolves each request through ``django.urls.get_resolver()``,
which is read here the same way, ``urlpatterns`` and every ``include()`` in them (its
prefix before each of its patterns). A ``path()`` parameter gets a value its converter's
``regex`` matches (``<int:pk>`` ``1``, ``<uuid:u>`` the nil UUID, ``<slug:s>`` ``1``, a
registered converter's own pattern); a ``re_path()`` pattern is filled group by group
(``path_samples.fill_regex``), and left out when it cannot be. A class-based view is probed
with the methods it has a handler for (``get``, ``post``: ``View`` dispatches on the method's
lowercase name; a REST framework ViewSet with its ``actions``); a function view with the
default probes, as nothing says which methods it takes. A converter's ``to_python`` is never
called (it may look a row up): only its pattern is read. Imports ``route_set`` and
``path_samples``.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from tracer.conformance.path_samples import fill_regex, sample_matching
from tracer.conformance.route_set import PROBED_METHODS, Routes

__all__ = ["django_routes"]

# <converter:name> or <name>, as django.urls.resolvers reads a route.
_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<parameter>[^>]+)>")
_MAX_DEPTH = 8


def _attribute(obj: Any, name: str) -> Any:
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


def django_routes(app: Any) -> Routes | None:
    """The routes of a Django handler, or None for anything else (or a Django whose URL
    configuration does not load)."""
    handler = getattr(sys.modules.get("django.core.handlers.base"), "BaseHandler", None)
    urls = sys.modules.get("django.urls")
    if not (isinstance(handler, type) and isinstance(app, handler)) or urls is None:
        return None
    try:
        patterns = list(urls.get_resolver().url_patterns)
    except Exception:  # no ROOT_URLCONF, or one that fails to import: nothing to read
        return None
    found = Routes("django")
    _walk(patterns, "/", found, depth=0)
    return found


def _walk(patterns: list[Any], prefix: str, found: Routes, *, depth: int) -> None:
    for entry in patterns:
        part = _fill(_attribute(entry, "pattern"))
        if part is None:
            continue
        inner = _attribute(entry, "url_patterns") if hasattr(entry, "url_patterns") else None
        if inner is not None:  # an include(): its patterns under this prefix
            if depth < _MAX_DEPTH:
                try:
                    children = list(inner)
                except Exception:  # an included module that fails to import
                    continue
                _walk(children, prefix + part, found, depth=depth + 1)
            continue
        found.add(prefix + part, methods=_view_methods(_attribute(entry, "callback")))


def _fill(pattern: Any) -> str | None:
    """The path text of one pattern: a route with its parameters filled, a regex filled, a
    language prefix as it is."""
    if pattern is None:
        return None
    resolvers = sys.modules.get("django.urls.resolvers")
    regex_kind = getattr(resolvers, "RegexPattern", None)
    if isinstance(regex_kind, type) and isinstance(pattern, regex_kind):  # re_path()
        regex = _attribute(pattern, "regex")
        return fill_regex(regex) if isinstance(regex, re.Pattern) else None
    converters = _attribute(pattern, "converters")
    converters = converters if isinstance(converters, dict) else {}

    def value(match: re.Match[str]) -> str:
        converter = converters.get(match.group("parameter"))
        return sample_matching(str(_attribute(converter, "regex") or "[^/]+")) or "1"

    # path() (converters by parameter name), or a language prefix (plain text).
    return _PARAMETER.sub(value, str(pattern))


def _view_methods(callback: Any) -> list[str] | None:
    """The methods a view answers, when its class says them; None (any) for a function."""
    actions = _attribute(callback, "actions")
    if isinstance(actions, dict) and actions:  # a REST framework ViewSet: method -> action
        return [m for m in PROBED_METHODS if m.lower() in actions]
    view_class = _attribute(callback, "view_class") or _attribute(callback, "cls")
    if not isinstance(view_class, type):
        return None
    allowed = _attribute(view_class, "http_method_names") or [m.lower() for m in PROBED_METHODS]
    methods = [
        m
        for m in PROBED_METHODS
        if m.lower() in allowed and callable(_attribute(view_class, m.lower()))
    ]
    return methods or None

"""The routes of frameworks that list them as objects with a path template each.

Litestar: ``app.routes`` (``HTTPRoute`` with its ``methods``, ``WebSocketRoute``, an
``ASGIRoute`` answering any method); a typed parameter ``{item_id:int}`` gets a value of its
``path_parameters`` type (``route_params.type_sample``). Bottle: ``app.routes`` (each
``Route``'s ``rule`` and ``method``, ``ANY`` for any), an app mounted with ``mount`` followed
with its prefix (a Bottle app's routes; a plain WSGI app: its root); ``<id:int>`` gets ``1``,
``<x:float>`` ``1.0``, ``<name:re:...>`` and ``<name>`` a value their pattern matches. Sanic:
``app.router.routes`` (``extra.websocket`` marks a websocket route, ``extra.hosts`` one that
needs a host name, left out); ``<id:int>``, ``<d:ymd>``, ``<s:slug>`` and a pattern
parameter get a value the router's pattern for them matches (``path_samples``), a
``<name:ext>`` ``1.txt``. Only public route objects are read; nothing of the app is called.
Imports ``route_set``, ``route_params`` and ``path_samples``.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from tracer.conformance.path_samples import sample_matching
from tracer.conformance.route_params import NIL_UUID, type_sample
from tracer.conformance.route_set import Routes

__all__ = ["litestar_routes", "bottle_routes", "sanic_routes"]

# Litestar: {name:type}, spaces allowed around both.
_LITESTAR_PARAM = re.compile(r"{\s*([^}:\s]+)\s*(?::\s*([^}\s]+)\s*)?}")
_BOTTLE_FILTERS = {"int": "1", "float": "1.0", "path": "1"}
_BOTTLE_DEFAULT_PATTERN = "[^/]+"
# Sanic: <name(=filename type)?:ext(=allowed|extensions)?>
_SANIC_EXT = re.compile(r"([A-Za-z_]\w*)(?:=[a-z]+)?:ext(?:=([a-z0-9|.]+))?")


def _attribute(obj: Any, name: str) -> Any:
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


def _instance_of(obj: Any, module: str, name: str) -> bool:
    """``obj`` is a ``module.name``, when the app loaded that module (never imported here)."""
    kind = getattr(sys.modules.get(module), name, None)
    return isinstance(kind, type) and isinstance(obj, kind)


# -- Litestar -------------------------------------------------------------------------------------


def litestar_routes(app: Any) -> Routes | None:
    """The routes of a ``Litestar`` app, or None for anything else."""
    if not _instance_of(app, "litestar.app", "Litestar"):
        return None
    found = Routes("litestar", serves_websockets=True)
    for route in _attribute(app, "routes") or ():
        path = _fill_litestar(_attribute(route, "path"), _attribute(route, "path_parameters"))
        if path is None:
            continue
        if _instance_of(route, "litestar.routes", "WebSocketRoute"):
            found.add(path, websocket=True)
        elif _instance_of(route, "litestar.routes", "HTTPRoute"):
            found.add(path, methods=_attribute(route, "methods") or None)
        else:  # an ASGIRoute (an @asgi handler, a mounted app): any method
            found.add(path)
    return found


def _fill_litestar(path: Any, parameters: Any) -> str | None:
    if not isinstance(path, str):
        return None
    kinds = parameters if isinstance(parameters, dict) else {}

    def value(match: re.Match[str]) -> str:
        kind = _attribute(kinds.get(match.group(1)), "type")
        return type_sample(kind) or "1"

    return _LITESTAR_PARAM.sub(value, path) or "/"


# -- Bottle ---------------------------------------------------------------------------------------


def bottle_routes(app: Any) -> Routes | None:
    """The routes of a ``bottle.Bottle`` app, or None for anything else."""
    if not _instance_of(app, "bottle", "Bottle"):
        return None
    found = Routes("bottle")
    _bottle_walk(app, "", found, seen=set())
    return found


def _bottle_walk(app: Any, prefix: str, found: Routes, *, seen: set[int]) -> None:
    if id(app) in seen or len(seen) > 8:
        return
    seen.add(id(app))
    syntax = _attribute(_attribute(app, "router"), "rule_syntax")
    for route in _attribute(app, "routes") or ():
        rule, method = _attribute(route, "rule"), _attribute(route, "method")
        config = _attribute(route, "config") or {}
        if not isinstance(rule, str) or not isinstance(method, str):
            continue
        if method == "PROXY":  # a mount point: what is mounted there
            target = config.get("mountpoint.target")
            mounted = prefix + str(config.get("mountpoint.prefix", "")).rstrip("/")
            if _instance_of(target, "bottle", "Bottle"):
                _bottle_walk(target, mounted, found, seen=seen)
            else:
                found.add(mounted + "/")
            continue
        path = prefix + _fill_bottle(rule, syntax)
        found.add(path, methods=None if method == "ANY" else [method])


def _fill_bottle(rule: str, syntax: Any) -> str:
    """``rule`` with each wildcard filled, read as Bottle's router reads it (its
    ``rule_syntax``: ``<name>``, ``<name:filter>``, ``<name:filter:config>``, ``:name``)."""
    if not isinstance(syntax, re.Pattern):
        return rule
    out: list[str] = []
    offset = 0
    for match in syntax.finditer(rule):
        out.append(rule[offset : match.start()])
        offset = match.end()
        groups = match.groups()
        if len(groups) < 7:
            return rule
        if len(groups[0]) % 2:  # an escaped wildcard is literal text
            out.append(match.group(0)[len(groups[0]) :])
            continue
        old = groups[2] is not None  # the old :name#regex# syntax
        kind, config = (groups[2], groups[3]) if old else (groups[5], groups[6])
        out.append(_bottle_value(kind or "re", config))
    out.append(rule[offset:])
    return "".join(out)


def _bottle_value(kind: str, config: str | None) -> str:
    if kind in _BOTTLE_FILTERS:
        return _BOTTLE_FILTERS[kind]
    if kind == "re":
        return sample_matching(config or _BOTTLE_DEFAULT_PATTERN) or "1"
    return "1"  # a filter of the app's own


# -- Sanic ----------------------------------------------------------------------------------------


def sanic_routes(app: Any) -> Routes | None:
    """The routes of a ``sanic.Sanic`` app, or None for anything else."""
    if not _instance_of(app, "sanic.app", "Sanic"):
        return None
    router = _attribute(app, "router")
    found = Routes("sanic", serves_websockets=True)
    patterns = _attribute(router, "regex_types")
    for route in _attribute(router, "routes") or ():
        extra = _attribute(route, "extra")
        hosts = _attribute(extra, "hosts") or [None]
        if None not in hosts:
            continue  # needs a host name
        parts = _attribute(route, "parts")
        if not isinstance(parts, tuple):
            continue
        path = "/" + "/".join(_sanic_part(part, patterns) for part in parts)
        if _attribute(extra, "websocket") is True:
            found.add(path, websocket=True)
        else:
            found.add(path, methods=_attribute(route, "methods") or None)
    return found


def _sanic_part(part: Any, patterns: Any) -> str:
    """One segment of a Sanic route, its parameter (``<name:label>``) filled."""
    if not isinstance(part, str):
        return "1"
    if not (part.startswith("<") and part.endswith(">")):
        return part
    inner = part[1:-1]
    extension = _SANIC_EXT.fullmatch(inner)
    if extension is not None:
        allowed = extension.group(2)
        return "1." + (allowed.split("|")[0] if allowed else "txt")
    _, _, label = inner.partition(":")
    label = label or "str"
    if label == "uuid":
        return NIL_UUID
    known = patterns.get(label) if isinstance(patterns, dict) else None
    pattern = known[1] if isinstance(known, tuple) and len(known) > 1 else label
    return sample_matching(pattern) or "1"

"""The routes of a Falcon app, WSGI (``falcon.App``) or ASGI (``falcon.asgi.App``).

Read through Falcon's public ``falcon.inspect.inspect_routes``: each route's URI template and
the responders its resource defines (``on_get``, ``on_post``, ``on_websocket``), not the ones
Falcon adds itself (``internal``: 405 and OPTIONS answers). A route with ``on_websocket`` is
a websocket path too. A template field gets a value its converter accepts: ``{id:int}`` ``1``
(``int(4)`` ``0001``, ``int(min=5)`` ``5``), ``{x:float}`` ``1.0``, ``{u:uuid}`` the nil UUID,
``{d:dt("%Y-%m-%d")}`` a date in that format, ``{rest:path}`` and ``{name}`` ``1``,
``{code:re("[a-z]{3}")}`` a value the pattern matches. Sinks and static routes, which serve
whatever path is under a prefix, are left out. Nothing of the app is called. Imports
``route_set``, ``route_params`` and ``path_samples``.
"""

from __future__ import annotations

import ast
import datetime
import importlib
import re
import sys
from typing import Any

from tracer.conformance.path_samples import sample_matching
from tracer.conformance.route_params import NIL_UUID
from tracer.conformance.route_set import Routes

__all__ = ["falcon_routes"]

# {name}, {name:converter} or {name:converter(arguments)}, as Falcon's router reads them.
_FIELD = re.compile(r"{([^}:]*)(?::([^}(]*)(?:\((.*?)\))?)?}")
_DEFAULT_DT_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_SOME_TIME = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def falcon_routes(app: Any) -> Routes | None:
    """The routes of a Falcon app, or None for anything else (or a Falcon whose routes its
    ``inspect`` module cannot list)."""
    kind = getattr(sys.modules.get("falcon.app"), "App", None)
    if not (isinstance(kind, type) and isinstance(app, kind)):
        return None
    try:
        inspect = importlib.import_module("falcon.inspect")  # part of the Falcon the app loaded
        routes = list(inspect.inspect_routes(app))
    except Exception:  # an app whose router Falcon's inspect does not know
        return None
    asgi_kind = getattr(sys.modules.get("falcon.asgi.app"), "App", None)
    asgi = isinstance(asgi_kind, type) and isinstance(app, asgi_kind)
    found = Routes("falcon", serves_websockets=asgi)
    for route in routes:
        template = getattr(route, "path", None)
        if not isinstance(template, str):
            continue
        path = _FIELD.sub(_field_value, template)
        methods = [
            str(getattr(method, "method", "")).upper()
            for method in getattr(route, "methods", ()) or ()
            if not getattr(method, "internal", True)
        ]
        if "WEBSOCKET" in methods:
            found.add(path, websocket=True)
        if any(method != "WEBSOCKET" for method in methods) or not methods:
            found.add(path, methods=[m for m in methods if m != "WEBSOCKET"])
    return found


def _field_value(match: re.Match[str]) -> str:
    converter = (match.group(2) or "").strip()
    args, kwargs = _arguments(match.group(3))
    if converter == "int":
        return _int_value(*_named(args, kwargs, ("num_digits", "min", "max")))
    if converter == "float":
        low, high = _named(args, kwargs, ("min", "max"))[:2]
        return str(float(_within(1.0, low, high)))
    if converter == "uuid":
        return NIL_UUID
    if converter == "dt":
        fmt = _named(args, kwargs, ("format_string",))[0]
        try:
            return _SOME_TIME.strftime(fmt if isinstance(fmt, str) else _DEFAULT_DT_FORMAT)
        except ValueError:
            return "1"
    if converter == "re":
        pattern = _named(args, kwargs, ("pattern",))[0]
        return (sample_matching(pattern) if isinstance(pattern, str) else None) or "1"
    return "1"  # a plain field, path, or a converter of the app's own


def _arguments(text: str | None) -> tuple[list[Any], dict[str, Any]]:
    """The literal arguments of ``converter(arguments)``; none when they are not literals."""
    if not text:
        return [], {}
    try:
        call = ast.parse(f"f({text})", mode="eval").body
        if not isinstance(call, ast.Call):
            return [], {}
        args = [ast.literal_eval(arg) for arg in call.args]
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg}
    except (SyntaxError, ValueError, TypeError):
        return [], {}
    return args, kwargs


def _named(args: list[Any], kwargs: dict[str, Any], names: tuple[str, ...]) -> list[Any]:
    """The converter's arguments in the order of ``names`` (None where not given)."""
    return [
        kwargs.get(name, args[i] if i < len(args) else None) for i, name in enumerate(names)
    ] + [None, None, None]


def _int_value(digits: Any, low: Any, high: Any, *_: Any) -> str:
    value = int(_within(1, low, high))
    text = str(value)
    if isinstance(digits, int) and digits > len(text):
        text = text.zfill(digits)
    return text


def _within(value: float, low: Any, high: Any) -> float:
    if isinstance(low, (int, float)) and value < low:
        value = low
    if isinstance(high, (int, float)) and value > high:
        value = high
    return value

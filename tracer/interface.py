"""Deciding whether an app speaks WSGI, ASGI 3 or ASGI 2, from its signature alone.

Imports only ``tracer.errors``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from typing import Any

from tracer.errors import InterfaceError

__all__ = [
    "WSGI",
    "ASGI",
    "ASGI2",
    "ASGI3",
    "CLI_CHOICE",
    "CLI_FACTORY",
    "ASGI2_NOTES",
    "asgi2_doubt_note",
    "detect_interface",
    "is_asgi",
]

WSGI = "wsgi"
ASGI = "asgi"
ASGI3 = "asgi3"
ASGI2 = "asgi2"
_HINTS = ("auto", WSGI, ASGI, ASGI2, ASGI3)

CLI_CHOICE = "Pass --interface wsgi or --interface asgi."
"""How to choose the interface by hand, in the CLI's words (``detect_interface``'s default)."""

CLI_FACTORY = "If it returns the app, pass --factory."
"""How to serve what a factory returns, in the CLI's words (``detect_interface``'s default)."""


def _is_coroutine_callable(obj: Any) -> bool:
    while isinstance(obj, functools.partial):
        obj = obj.func
    if inspect.iscoroutinefunction(obj) or asyncio.iscoroutinefunction(obj):
        return True
    call = getattr(type(obj), "__call__", None)  # noqa: B004 - the class's __call__, not obj's
    if call is not None and not inspect.isfunction(obj) and not inspect.isclass(obj):
        if not inspect.isfunction(call) and hasattr(call, "__get__"):
            # A ``__call__`` slot (Sentry's SentryAsgiMiddleware sets one per instance): the
            # call runs the instance's value of it, as uvicorn's ``getattr(app, "__call__")``.
            call = call.__get__(obj, type(obj))
        return inspect.iscoroutinefunction(call)
    return False


def _positional_count(obj: Any) -> int | None:
    """How many positional arguments ``obj`` needs (None: cannot tell, or ``*args``).

    Parameters with defaults are left out when there are required ones, so
    ``def app(environ, start_response, debug=False)`` still reads as WSGI.
    """
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    count = required = 0
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            count += 1
            if parameter.default is parameter.empty:
                required += 1
        elif parameter.kind == parameter.VAR_POSITIONAL:
            return None
    return required or count


def detect_interface(
    app: Any, hint: str = "auto", *, choice: str = CLI_CHOICE, factory: str = CLI_FACTORY
) -> str:
    """Return ``"wsgi"``, ``"asgi3"`` or ``"asgi2"`` for ``app``.

    ``hint`` is ``auto``, ``wsgi`` or ``asgi`` (``--interface``); with ``asgi`` a double
    callable is taken as ASGI 2. ``asgi2``/``asgi3`` force that version. Raises
    ``InterfaceError`` when it cannot be told, or for an unknown ``hint``. ``choice`` ends the
    message of an app that cannot be told: how its caller passes the interface by hand
    (``tracer.instrument`` takes an argument where the CLI takes an option).

    A function that can be called without arguments (``def create_app(test_config=None)``,
    Flask's tutorial factory) is refused with ``auto``: no server calls an app that way, and
    taken for ASGI 2 it failed every request. ``factory`` says how its result is served instead.
    """
    if hint not in _HINTS:
        raise InterfaceError(
            f'Unknown interface "{hint}": use auto, wsgi or asgi (asgi2/asgi3 force a version).'
        )
    if not callable(app):
        raise InterfaceError(f"{app!r} is not callable, so it is neither a WSGI nor an ASGI app.")
    if hint in (WSGI, ASGI2, ASGI3):
        return hint
    if _is_coroutine_callable(app):
        return ASGI3
    count = _positional_count(app)
    if hint == ASGI:
        return ASGI3 if count in (None, 3) else ASGI2
    defaulted = _defaulted_first(app)
    if defaulted is not None:
        raise InterfaceError(
            f"{getattr(app, '__name__', type(app).__name__)!r} can be called without arguments "
            f'("{defaulted}" has a default), so it looks like a function that makes the app, not '
            f"the app. {factory} If it is the app, {choice[:1].lower()}{choice[1:]}"
        )
    if inspect.isclass(app):
        # A class whose instances are created with the scope and then awaited: ASGI 2.
        if count == 1 or _is_coroutine_callable(getattr(app, "__call__", None)):  # noqa: B004
            return ASGI2
    if count == 3:
        return ASGI3  # async-looking objects that are not coroutine functions (wrappers)
    if count == 2:
        return WSGI
    if count == 1:
        return ASGI2
    raise InterfaceError(
        f"Cannot tell whether {getattr(app, '__name__', type(app).__name__)!r} is a WSGI or an "
        f"ASGI app from its signature. {choice}"
    )


def _defaulted_first(app: Any) -> str | None:
    """The first positional parameter of function ``app`` when every one has a default (so a
    server's call would fill them, not the defaults) and none is named like an app's
    (``scope``, ``environ``); None otherwise, a class or a callable object included."""
    if not inspect.isfunction(app) and not inspect.ismethod(app):
        return None
    try:
        parameters = list(inspect.signature(app).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not positional or any(p.default is p.empty for p in positional):
        return None
    if any(word in positional[0].name.lower() for word in ("scope", "environ")):
        return None  # an app whose own arguments have defaults: taken as its signature says
    return positional[0].name


def is_asgi(interface: str) -> bool:
    """True for ``asgi``, ``asgi2`` and ``asgi3``."""
    return interface.startswith(ASGI)


ASGI2_NOTES: dict[str, str] = {
    "asgi2_class": (
        'APP "{spec}" is a class whose instances are ASGI apps; it is served as an ASGI 2 app, '
        "called with each request's scope. Point APP at an instance (the app object), or at a "
        "function of no arguments that makes it and pass --factory."
    ),
    "asgi2_first": (
        'APP "{spec}" is served as an ASGI 2 app, called with each request\'s scope as its '
        '"{first}". If it is not the app itself (a view, a class or a function that makes the '
        "app), point APP at the app, or at a function of no arguments that returns it and pass "
        "--factory."
    ),
}
"""The hints ``asgi2_doubt_note`` names, by key (``tracer.loading`` says them in Chinese too)."""


def asgi2_doubt_note(app: Any) -> tuple[str, dict[str, str]] | None:
    """A hint when ``app``, taken for ASGI 2, is likely not an app at all: its ``ASGI2_NOTES``
    key and values (all but ``spec``, the APP given); None otherwise.

    ASGI 2 is an object called with the scope that returns an awaitable of ``(receive,
    send)``, so a class or a one-argument function is taken for one (uvicorn does the same),
    and a framework's app class (``Litestar`` rather than ``app``), a view (``def view(request)``)
    or a factory given as APP then fails every request with an error of its own. It is only a
    hint, never a refusal: a class whose first argument is named like the scope (``__init__(self,
    scope)``) or a function of ``scope`` is a real ASGI 2 app and gets none.
    """
    target = app
    while isinstance(target, functools.partial):
        target = target.func
    if inspect.isclass(target):
        call = getattr(target, "__call__", None)  # noqa: B004 - its instances' __call__
        if _positional_count(call) == 4 and _is_coroutine_callable(
            call
        ):  # self, scope, receive, send
            return "asgi2_class", {}
        first = _first_parameter(getattr(target, "__init__", None), skip_self=True)
    elif inspect.isfunction(target) or inspect.ismethod(target):
        first = _first_parameter(target, skip_self=False)
    else:
        return None
    if first is None or "scope" in first.lower():
        return None
    return "asgi2_first", {"first": first}


def _first_parameter(func: Any, *, skip_self: bool) -> str | None:
    """The name of ``func``'s first positional parameter (after ``self`` with ``skip_self``),
    or None when it has none or its signature cannot be read."""
    try:
        parameters = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = [
        p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if skip_self and positional[:1] == ["self"]:
        positional = positional[1:]
    return positional[0] if positional else None

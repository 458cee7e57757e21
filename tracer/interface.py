"""Deciding whether an app speaks WSGI, ASGI 3 or ASGI 2, from its signature alone.

Imports only ``tracer.errors``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from typing import Any

from tracer.errors import InterfaceError

__all__ = ["WSGI", "ASGI", "ASGI2", "ASGI3", "CLI_CHOICE", "detect_interface", "is_asgi"]

WSGI = "wsgi"
ASGI = "asgi"
ASGI3 = "asgi3"
ASGI2 = "asgi2"
_HINTS = ("auto", WSGI, ASGI, ASGI2, ASGI3)

CLI_CHOICE = "Pass --interface wsgi or --interface asgi."
"""How to choose the interface by hand, in the CLI's words (``detect_interface``'s default)."""


def _is_coroutine_callable(obj: Any) -> bool:
    while isinstance(obj, functools.partial):
        obj = obj.func
    if inspect.iscoroutinefunction(obj) or asyncio.iscoroutinefunction(obj):
        return True
    call = getattr(type(obj), "__call__", None)  # noqa: B004 - the class's __call__, not obj's
    if call is not None and not inspect.isfunction(obj) and not inspect.isclass(obj):
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


def detect_interface(app: Any, hint: str = "auto", *, choice: str = CLI_CHOICE) -> str:
    """Return ``"wsgi"``, ``"asgi3"`` or ``"asgi2"`` for ``app``.

    ``hint`` is ``auto``, ``wsgi`` or ``asgi`` (``--interface``); with ``asgi`` a double
    callable is taken as ASGI 2. ``asgi2``/``asgi3`` force that version. Raises
    ``InterfaceError`` when it cannot be told, or for an unknown ``hint``. ``choice`` ends the
    message of an app that cannot be told: how its caller passes the interface by hand
    (``tracer.instrument`` takes an argument where the CLI takes an option).
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


def is_asgi(interface: str) -> bool:
    """True for ``asgi``, ``asgi2`` and ``asgi3``."""
    return interface.startswith(ASGI)

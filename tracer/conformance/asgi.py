"""``AsgiChecker``: the hook class the ASGI shim creates per connection, for any scope type.

``AsgiChecker(scope, report)`` returns the checker registered for ``scope["type"]`` (http,
websocket, lifespan), so the shim creates one object and calls three hooks without knowing
the scope types; an unknown scope type gets the message-shape checks only. Each checker is a
small state machine over integer states. Imports only the conformance package.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any, ClassVar

from tracer.conformance.base import Checker, Report

__all__ = ["AsgiChecker"]

# scope["type"] -> the checker class for it; filled by subclasses as they are defined.
_REGISTRY: dict[Any, type[AsgiChecker]] = {}


class AsgiChecker(Checker):
    """Checks one ASGI connection (http, websocket, lifespan) against the ASGI spec."""

    __slots__ = ("scope",)

    scope_type: ClassVar[str] = ""
    """The ``scope["type"]`` a subclass checks."""

    def __init_subclass__(cls, scope_type: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if scope_type:
            cls.scope_type = scope_type
            _REGISTRY[scope_type] = cls

    def __new__(cls, scope: MutableMapping[str, Any], report: Report) -> AsgiChecker:
        if cls is AsgiChecker:
            try:
                cls = _REGISTRY.get(scope["type"], cls)
            except (TypeError, KeyError):
                pass  # not a scope at all: the base checker looks at messages only
        return object.__new__(cls)

    def __init__(self, scope: MutableMapping[str, Any], report: Report) -> None:
        Checker.__init__(self, report)
        self.scope = scope

    def receive(self, message: Any) -> None:
        """``await receive()`` returned ``message`` to the app."""

    def send(self, message: Any) -> None:
        """The app called ``await send(message)`` (checked before it is passed on)."""
        self._type_of(message)

    def finish(self, *, error: BaseException | None) -> None:
        """The app's coroutine returned or raised."""

    def _type_of(self, message: Any) -> str | None:
        """``message["type"]``, or None after flagging a message that has no usable type."""
        if type(message) is dict:
            kind = message.get("type")
        elif isinstance(message, dict):
            kind = message.get("type")
        else:
            self._flag("ASGI-001", f"got {type(message).__name__}")
            return None
        if type(kind) is not str:
            self._flag("ASGI-002", f"type is {kind!r:.40}")
            return None
        return kind

    def _extension(self, name: str) -> bool:
        """True if the server advertised extension ``name`` in ``scope["extensions"]``."""
        extensions = self.scope.get("extensions")
        return isinstance(extensions, Mapping) and name in extensions

"""``AsgiChecker``: the hook class the ASGI shim creates per connection, for any scope type.

``AsgiChecker(scope, report)`` returns the checker registered for ``scope["type"]`` (http,
websocket, lifespan), so the shim creates one object and calls three hooks without knowing
the scope types; an unknown scope type gets the message-shape checks only. Each checker is a
small state machine over integer states. ``verdicts`` are the shim's redaction verdicts
(``tracer.redact.header_verdicts``): a finding quotes a header's value as the shim records it.
Imports only the conformance package (and ``tracer.redact``'s type for annotations).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, ClassVar

from tracer.conformance.base import Checker, Report
from tracer.conformance.schema import DEFAULT_VERDICTS

if TYPE_CHECKING:
    from tracer.redact import HeaderVerdicts

__all__ = ["AsgiChecker"]

# scope["type"] -> the checker class for it; filled by subclasses as they are defined.
_REGISTRY: dict[Any, type[AsgiChecker]] = {}


class AsgiChecker(Checker):
    """Checks one ASGI connection (http, websocket, lifespan) against the ASGI spec."""

    __slots__ = ("scope", "verdicts")

    scope_type: ClassVar[str] = ""
    """The ``scope["type"]`` a subclass checks."""

    def __init_subclass__(cls, scope_type: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if scope_type:
            cls.scope_type = scope_type
            _REGISTRY[scope_type] = cls

    def __new__(
        cls,
        scope: MutableMapping[str, Any],
        report: Report,
        *,
        verdicts: HeaderVerdicts | None = DEFAULT_VERDICTS,
    ) -> AsgiChecker:
        if cls is AsgiChecker:
            try:
                cls = _REGISTRY.get(scope["type"], cls)
            except (TypeError, KeyError):
                pass  # not a scope at all: the base checker looks at messages only
        return object.__new__(cls)

    def __init__(
        self,
        scope: MutableMapping[str, Any],
        report: Report,
        *,
        verdicts: HeaderVerdicts | None = DEFAULT_VERDICTS,
    ) -> None:
        Checker.__init__(self, report)
        self.scope = scope
        self.verdicts = verdicts
        """The shim's header verdicts, by which quoted header values are redacted (None: the
        shim redacts nothing, and the findings quote values as they are)."""

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

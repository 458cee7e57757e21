"""The lifespan scope's state machine: startup and shutdown, each asked once, answered once.

Raising before answering startup is the spec's way to say "lifespan unsupported", so it is
not flagged; returning without an answer is. Imports only the conformance package.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from tracer.conformance.asgi import AsgiChecker
from tracer.conformance.base import Report
from tracer.conformance.schema import DEFAULT_VERDICTS

if TYPE_CHECKING:
    from tracer.redact import HeaderVerdicts

__all__ = ["LifespanChecker"]

# Bits of LifespanChecker._seen.
ASKED_STARTUP, ANSWERED_STARTUP, ASKED_SHUTDOWN, ANSWERED_SHUTDOWN, STARTED_OK = 1, 2, 4, 8, 16

# Answer message -> (bit it needs, bit it sets, rule if it carries no message).
_ANSWERS: dict[str, tuple[int, int, str | None]] = {
    "lifespan.startup.complete": (ASKED_STARTUP, ANSWERED_STARTUP, None),
    "lifespan.startup.failed": (ASKED_STARTUP, ANSWERED_STARTUP, "LS-001"),
    "lifespan.shutdown.complete": (ASKED_SHUTDOWN, ANSWERED_SHUTDOWN, None),
    "lifespan.shutdown.failed": (ASKED_SHUTDOWN, ANSWERED_SHUTDOWN, "LS-007"),
}


class LifespanChecker(AsgiChecker, scope_type="lifespan"):
    """The one lifespan connection of an app's life."""

    __slots__ = ("_seen",)

    def __init__(
        self,
        scope: MutableMapping[str, Any],
        report: Report,
        *,
        verdicts: HeaderVerdicts | None = DEFAULT_VERDICTS,
    ) -> None:
        AsgiChecker.__init__(self, scope, report, verdicts=verdicts)
        self._seen = 0

    def receive(self, message: Any) -> None:
        """``await receive()`` returned ``message`` to the app."""
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "lifespan.startup":
            self._seen |= ASKED_STARTUP
        elif kind == "lifespan.shutdown":
            self._seen |= ASKED_SHUTDOWN

    def send(self, message: Any) -> None:
        """The app called ``await send(message)``."""
        kind = self._type_of(message)
        if kind is None:
            return
        answer = _ANSWERS.get(kind)
        if answer is None:
            self._flag("LS-004", f"got {kind!r:.60}")
            return
        needs, sets, needs_message = answer
        if not self._seen & needs:
            self._flag("LS-002", f"{kind} before receiving {kind.rsplit('.', 1)[0]}")
        elif self._seen & sets:
            self._flag("LS-003", kind)
        self._seen |= sets
        if kind == "lifespan.startup.complete":
            self._seen |= STARTED_OK
        if needs_message is not None:
            text = message.get("message")
            if not isinstance(text, str) or not text:
                self._flag(needs_message, f"message is {text!r:.40}")

    def finish(self, *, error: BaseException | None) -> None:
        """The app's coroutine returned or raised."""
        seen = self._seen
        if error is not None:
            if isinstance(error, Exception) and seen & STARTED_OK and not seen & ANSWERED_SHUTDOWN:
                self._flag("LS-008", f"{type(error).__name__}: {error}"[:80], locate=False)
            return
        if seen & ASKED_STARTUP and not seen & ANSWERED_STARTUP:
            self._flag("LS-005", locate=False)
        elif seen & ASKED_SHUTDOWN and not seen & ANSWERED_SHUTDOWN:
            self._flag("LS-006", locate=False)

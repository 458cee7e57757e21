"""The websocket scope's state machine: handshake, accept, frames, close, denial response.

States: ``HANDSHAKE`` -> ``OPEN`` (accepted) or ``DENYING`` (websocket.http.response.start)
-> ``CLOSED`` (close sent, denial sent, or websocket.disconnect received). A denial body sent
before its start (WS-014) moves to ``HEADLESS``, as the http checker's body before a start
does: no denial has started, so that body (even a last one) ends none, the handshake is still
to be answered (the app's first start after it is its start, not one "after accept"), and an
app that returns then is not told it never answered (WS-014 said what went wrong). A message
of a type no websocket scope has (WS-010: an ``http.response.start``) sent to the unanswered
handshake moves there too, for the same reason.
Imports only the conformance package.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from tracer.conformance.asgi import AsgiChecker
from tracer.conformance.asgi_http import check_status
from tracer.conformance.base import Report, short
from tracer.conformance.schema import DEFAULT_VERDICTS, asgi_headers, is_int

if TYPE_CHECKING:
    from tracer.redact import HeaderVerdicts

__all__ = ["WebSocketChecker", "valid_close_code"]

HANDSHAKE, OPEN, DENYING, CLOSED, HEADLESS = range(5)


def valid_close_code(code: Any) -> bool:
    """True for close codes an endpoint may send (RFC 6455 section 7.4, IANA registry): an
    ``IntEnum`` member (``websockets``' ``CloseCode``) is its number, a bool is no code."""
    if not is_int(code):
        return False
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


class WebSocketChecker(AsgiChecker, scope_type="websocket"):
    """One websocket connection, from the handshake to the close."""

    __slots__ = ("_state", "_disconnected")

    def __init__(
        self,
        scope: MutableMapping[str, Any],
        report: Report,
        *,
        verdicts: HeaderVerdicts | None = DEFAULT_VERDICTS,
    ) -> None:
        AsgiChecker.__init__(self, scope, report, verdicts=verdicts)
        self._state = HANDSHAKE
        self._disconnected = False

    def receive(self, message: Any) -> None:
        """``await receive()`` returned ``message`` to the app."""
        if self._disconnected:
            self._flag("WS-011")
        elif type(message) is dict and message.get("type") == "websocket.disconnect":
            self._disconnected = True
            self._state = CLOSED

    def send(self, message: Any) -> None:
        """The app called ``await send(message)``."""
        kind = self._type_of(message)
        if kind is None:
            return
        state = self._state
        unanswered = state == HANDSHAKE or state == HEADLESS
        if kind == "websocket.send":
            if unanswered:
                self._flag("WS-001", kind)
            elif state != OPEN:
                self._flag("WS-003", kind)
            self._frame(message)
        elif kind == "websocket.accept":
            if state == OPEN:
                self._flag("WS-002")
            elif not unanswered:
                self._flag("WS-003", kind)
            else:
                self._state = OPEN
                self._accept(message)
        elif kind == "websocket.close":
            if state == CLOSED or state == DENYING:
                self._flag("WS-003", kind)
            self._state = CLOSED
            code = message.get("code", 1000)
            if not valid_close_code(code):
                self._flag("WS-004", f"got {short(code)}")
            reason = message.get("reason")
            if reason is not None and (not isinstance(reason, str) or len(reason.encode()) > 123):
                self._flag("WS-009", f"got {short(reason)}")
        elif kind == "websocket.http.response.start":
            if not unanswered or not self._extension("websocket.http.response"):
                self._flag("WS-012")
            self._state = DENYING
            check_status(self, message.get("status"))
            asgi_headers(message.get("headers", ()), self._flag, verdicts=self.verdicts)
        elif kind == "websocket.http.response.body":
            if unanswered:
                self._flag("WS-014")
                self._state = HEADLESS
                return
            if state != DENYING:
                self._flag("WS-003", kind)
            if not message.get("more_body", False):
                self._state = CLOSED
        else:
            self._flag("WS-010", f"got {kind!r:.60}")
            if unanswered:
                # An answer of another protocol (Sanic's http.response.start at an HTTP
                # route): WS-010 says what went wrong, so returning after it is not also
                # "never answered" (WS-013); an accept or close after it still answers.
                self._state = HEADLESS

    def _frame(self, message: dict[str, Any]) -> None:
        data = message.get("bytes")
        text = message.get("text")
        if (data is None) == (text is None):
            self._flag("WS-005", "both set" if data is not None else "neither set")
        # A str or bytes subclass (markupsafe's Markup) is the text or bytes it holds.
        elif text is not None and not isinstance(text, str):
            self._flag("WS-006", f"text is {type(text).__name__}")
        elif data is not None and not isinstance(data, bytes):
            self._flag("WS-006", f"bytes is {type(data).__name__}")

    def _accept(self, message: dict[str, Any]) -> None:
        subprotocol = message.get("subprotocol")
        if subprotocol is not None and subprotocol not in (self.scope.get("subprotocols") or ()):
            self._flag("WS-007", f"got {short(subprotocol)}")
        headers = message.get("headers")
        if headers is not None:
            asgi_headers(headers, self._flag, websocket=True, verdicts=self.verdicts)

    def finish(self, *, error: BaseException | None) -> None:
        """The app's coroutine returned or raised."""
        if error is None and self._state == HANDSHAKE:
            self._flag("WS-013", locate=False)

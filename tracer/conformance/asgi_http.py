"""The http scope's state machine: start, body chunks, trailers, extensions, disconnect.

States: ``INIT`` -> ``STARTED`` (http.response.start sent) -> ``TRAILERS`` (last body sent,
trailers announced) -> ``DONE``. A body sent before any start (HTTP-001) moves to ``HEADLESS``:
no response has started, so that body (even a last one) completes none, the app's first start
after it is its start (not a second one, nor one after the end), and nothing else is judged
until then.
Imports only the conformance package.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from tracer.conformance.asgi import AsgiChecker
from tracer.conformance.base import Report, short
from tracer.conformance.schema import DEFAULT_VERDICTS, NO_BODY_STATUS, asgi_headers, is_int

if TYPE_CHECKING:
    from tracer.redact import HeaderVerdicts

__all__ = ["HttpChecker", "check_status"]

INIT, STARTED, TRAILERS, DONE, HEADLESS = range(5)

# Extension message -> whether it ends the response body.
_EXTENSIONS: dict[str, bool] = {
    "http.response.zerocopysend": False,
    "http.response.pathsend": True,
    "http.response.push": False,
    "http.response.early_hint": False,
    "http.response.debug": False,
}


def check_status(checker: AsgiChecker, status: Any) -> int:
    """Flag a bad ``status``; return it as an int (0 when it is not one)."""
    if type(status) is not int:
        if not is_int(status):
            checker._flag("HTTP-006", f"got {type(status).__name__} {short(status)}")
            return 0
        status = int(status)
    if not 100 <= status <= 599:
        checker._flag("HTTP-007", f"got {status}")
    elif status < 200:
        checker._flag("HTTP-008", f"got {status}")
    return status


class HttpChecker(AsgiChecker, scope_type="http"):
    """One http request/response cycle."""

    __slots__ = (
        "_state",
        "_status",
        "_length",
        "_sent",
        "_trailers",
        "_disconnected",
        "_opaque",
    )

    def __init__(
        self,
        scope: MutableMapping[str, Any],
        report: Report,
        *,
        verdicts: HeaderVerdicts | None = DEFAULT_VERDICTS,
    ) -> None:
        # The base __init__ chain, inlined: this runs once per request on the hot path.
        self.report = report
        self._flagged = None
        self.scope = scope
        self.verdicts = verdicts
        self._state = INIT
        self._status = 0
        self._length: int | None = None
        self._sent = 0
        self._trailers = False
        self._disconnected = False
        self._opaque = False  # zerocopysend/pathsend bodies: size unknown here

    def receive(self, message: Any) -> None:
        """``await receive()`` returned ``message`` to the app."""
        if self._disconnected:
            self._flag("HTTP-020")
        elif type(message) is dict and message.get("type") == "http.disconnect":
            self._disconnected = True

    def send(self, message: Any) -> None:
        """The app called ``await send(message)``."""
        kind = message.get("type") if type(message) is dict else self._type_of(message)
        state = self._state
        if kind == "http.response.body":
            if state == STARTED:
                # The common case inline (bytes, a bool, a status that allows a body); anything
                # else goes the long way, which flags it.
                body = message.get("body", b"")
                more = message.get("more_body", False)
                status = self._status
                if (
                    type(body) is bytes
                    and type(more) is bool
                    and (not body or (status >= 200 and status not in NO_BODY_STATUS))
                ):
                    self._sent += len(body)
                    if not more:
                        if self._length is None:  # no declared length to compare: done
                            self._state = TRAILERS if self._trailers else DONE
                        else:
                            self._complete()
                    return
                self._body(message)
            elif state == INIT or state == HEADLESS:
                if state == INIT:
                    self._flag("HTTP-001")
                    self._state = HEADLESS
                self._body(message, ends=False)  # its form is still checked
            else:
                self._flag("HTTP-003", kind)
        elif kind == "http.response.start":
            # After a premature body (already HTTP-001) this is the app's first start, not a
            # second one: the declared length judges the body sent from here on.
            if state != INIT and state != HEADLESS:
                self._flag("HTTP-002" if state == STARTED else "HTTP-003", kind)
                return
            self._state = STARTED
            status = message.get("status")
            if type(status) is not int or not 200 <= status <= 599:  # else nothing to flag
                status = check_status(self, status)
            self._status = status
            self._length = asgi_headers(
                message.get("headers", ()), self._flag, status=status, verdicts=self.verdicts
            )
            if message.get("trailers", False):
                self._trailers = True
                if not self._extension("http.response.trailers"):
                    self._flag("HTTP-024")
        elif kind == "http.response.trailers":
            self._trailers_sent(message, state)
        elif type(kind) is str and kind in _EXTENSIONS:  # a list is no key: ASGI-002 below
            if not self._extension(kind):
                self._flag("HTTP-026", kind)
            if kind in ("http.response.zerocopysend", "http.response.pathsend"):
                self._opaque = True
                if state == INIT:
                    self._flag("HTTP-001", kind)
                    self._state = HEADLESS
                elif state == HEADLESS:
                    pass  # still no start: HTTP-001 said so
                elif state != STARTED:
                    self._flag("HTTP-003", kind)
                elif _EXTENSIONS[kind] or not message.get("more_body", False):
                    self._complete()
        elif type(kind) is str:
            self._flag("HTTP-019", f"got {kind!r:.60}")
        elif type(message) is dict:
            self._type_of(message)  # no usable type: ASGI-002

    def _body(self, message: dict[str, Any], *, ends: bool = True) -> None:
        """Check a body message's form; count it and, when it is the last, complete the
        response, unless ``ends`` is False (a body before any start: no response to end)."""
        body = message.get("body", b"")
        # A bytes subclass is bytes; a bytearray or memoryview is not (the spec's "byte
        # string" is bytes, and daphne raises on them: docs/rules.md, HTTP-014).
        if not isinstance(body, bytes):
            self._flag("HTTP-014", f"got {type(body).__name__}")
        elif body and ends:
            self._sent += len(body)
            if self._status in NO_BODY_STATUS or 100 <= self._status < 200:
                self._flag("HTTP-025", f"status {self._status} with {len(body)} bytes")
        more = message.get("more_body", False)
        if type(more) is not bool:
            self._flag("HTTP-015", f"got {short(more)}")
        if not more and ends:
            self._complete()

    def _complete(self) -> None:
        """The last body chunk went out: check the length, then wait for trailers or end."""
        self._state = TRAILERS if self._trailers else DONE
        length = self._length
        if (
            length is not None
            and length >= 0
            and length != self._sent
            and not self._opaque
            and self._status not in NO_BODY_STATUS
            and self.scope.get("method") != "HEAD"
            # A body that was not bytes has no size on the wire: HTTP-014 said so.
            and not self._flagged_any("HTTP-014")
        ):
            rule_id = "HTTP-016" if self._sent > length else "HTTP-017"
            self._flag(rule_id, f"sent {self._sent}, declared {length}")

    def _trailers_sent(self, message: dict[str, Any], state: int) -> None:
        if not self._trailers:
            self._flag("HTTP-021")
        elif state in (INIT, STARTED):
            self._flag("HTTP-022")
        elif state == DONE:
            self._flag("HTTP-003", "http.response.trailers")
            return
        asgi_headers(message.get("headers", ()), self._flag, verdicts=self.verdicts)
        if not message.get("more_trailers", False) and state != INIT and state != HEADLESS:
            self._state = DONE

    def finish(self, *, error: BaseException | None) -> None:
        """The app's coroutine returned or raised."""
        state = self._state
        if state == DONE or error is not None or self._disconnected:
            return  # done; an exception is an error event; after a disconnect nobody listens
        if state == INIT:
            self._flag("HTTP-004", locate=False)
        elif state == STARTED:
            self._flag("HTTP-005", locate=False)
        elif state == TRAILERS:
            self._flag("HTTP-023", locate=False)

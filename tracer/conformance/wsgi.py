"""``WsgiChecker``: one WSGI request checked against PEP 3333 as the shim sees it happen.

The shim calls the hooks in protocol order with the real objects; the checker keeps a few
counters and flags (no allocation on the fast path) and reports broken ``WSGI-*`` rules.
Imports only the conformance package.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from tracer.conformance.base import Checker, Report, short
from tracer.conformance.schema import NO_BODY_STATUS, wsgi_headers

__all__ = ["WsgiChecker"]


# Every standard status line ("200 OK", "404 Not Found"): most apps send one of these.
_KNOWN_STATUS: dict[str, int] = {f"{s.value} {s.phrase}": s.value for s in HTTPStatus}


def _status_code(status: str) -> int:
    """The code of a well-formed status line, or -1."""
    code = _KNOWN_STATUS.get(status)
    if code is not None:
        return code
    if len(status) < 5 or status[3] != " " or not status[:3].isdigit() or not status[:3].isascii():
        return -1
    if not status[4:].strip() or "\n" in status or "\r" in status:
        return -1
    code = int(status[:3])
    return code if 100 <= code <= 599 else -1


class WsgiChecker(Checker):
    """Checks one WSGI request against PEP 3333; the shim calls the hooks in protocol order."""

    __slots__ = ("environ", "_started", "_code", "_length", "_sent", "_iterating", "_typed")

    def __init__(self, environ: dict[str, Any], report: Report) -> None:
        self.report = report  # Checker.__init__, inlined: once per request on the hot path
        self._flagged = None
        self.environ = environ
        self._started = False
        self._code = 0
        self._length: int | None = None
        self._sent = 0
        self._iterating = False
        self._typed = True

    def start_response(self, status: Any, headers: Any, exc_info: Any) -> None:
        """``start_response(status, headers, exc_info)`` was called."""
        if exc_info is not None:
            if type(exc_info) is not tuple or len(exc_info) != 3:
                self._flag("WSGI-024", f"got {short(exc_info)}")
        elif self._started:
            self._flag("WSGI-002")
        self._started = True
        if type(status) is not str:
            self._flag("WSGI-004", f"got {type(status).__name__} {short(status)}")
            self._code = 0
        else:
            code = _status_code(status)
            if code < 0:
                self._flag("WSGI-005", f"got {status!r:.60}")
            elif code < 200:
                self._flag("WSGI-006", status)
            self._code = code
        self._length, self._typed = wsgi_headers(headers, self._flag)

    def write(self, data: Any) -> None:
        """The legacy ``write(data)`` callable was called."""
        if self._iterating:
            self._flag("WSGI-017")
        if type(data) is not bytes:
            self._flag("WSGI-018", f"got {type(data).__name__}")
            return
        self._count(len(data))

    def body_item(self, item: Any) -> None:
        """The app's iterable produced ``item``."""
        # The item comes back from next() on the app's iterable: the app's frame is no longer on
        # the stack, only the server's (a thread's run(), say), so the place is the app itself.
        self._iterating = True
        if type(item) is not bytes:
            if type(item) is int or (type(item) is str and len(item) == 1):
                self._flag("WSGI-015", f"an item is {short(item)}", locate=False)
            else:
                self._flag("WSGI-014", f"got {type(item).__name__} {short(item, 40)}", locate=False)
            return
        if not self._started and item:
            self._flag("WSGI-003", locate=False)
        if item:
            self._count(len(item), locate=False)

    def _count(self, size: int, *, locate: bool = True) -> None:
        self._sent += size
        if self._code in NO_BODY_STATUS or 0 < self._code < 200:
            self._flag("WSGI-025", f"status {self._code} with {self._sent} bytes", locate=locate)

    def input_read(self, total_bytes: int) -> None:
        """``wsgi.input`` has now returned ``total_bytes`` in all."""
        environ = self.environ
        if environ.get("wsgi.input_terminated"):
            return  # a chunked body: the server ends the stream, any read size is fine
        declared = environ.get("CONTENT_LENGTH") or "0"
        try:
            limit = int(declared)
        except (TypeError, ValueError):
            return  # the server's malformed environ is not the app's fault
        if total_bytes > limit:
            self._flag("WSGI-023", f"read {total_bytes} bytes, CONTENT_LENGTH is {limit}")

    def finish(
        self, *, close_called: bool, error: BaseException | None, closable: bool = True
    ) -> None:
        """The request is over (iteration ended, or the app raised).

        ``closable`` says whether the app's own response iterable has a ``close()``: PEP 3333
        asks the server to call it only then, so a plain list dropped unclosed breaks nothing.
        """
        if error is not None:
            return  # the exception is recorded as an error event; what follows is moot
        if not self._started:
            self._flag("WSGI-001", locate=False)
            return
        if not close_called and closable:
            self._flag("WSGI-022", locate=False)
        if self._sent and not self._typed and self._code not in NO_BODY_STATUS:
            self._flag("WSGI-016", locate=False)
        length = self._length
        if (
            length is not None
            and length >= 0
            and length != self._sent
            and self.environ.get("REQUEST_METHOD") != "HEAD"
            and self._code not in NO_BODY_STATUS
            # A wsgi.file_wrapper response is sent by the server its own way, unseen here.
            and (self._iterating or "wsgi.file_wrapper" not in self.environ)
        ):
            rule_id = "WSGI-019" if self._sent > length else "WSGI-020"
            self._flag(rule_id, f"sent {self._sent}, declared {length}", locate=False)

"""``WsgiChecker``: one WSGI request checked against PEP 3333 as the shim sees it happen.

The shim calls the hooks in protocol order with the real objects; the checker keeps a few
counters and flags (no allocation on the fast path) and reports broken ``WSGI-*`` rules.

Where (``location``): a rule broken inside a call the app makes (``start_response``,
``write``, a ``wsgi.input`` read) is the line of that call. A rule about a body chunk is
judged after the app's ``next()`` returned, with no app frame left on the stack: when the
iterator the shim hands in (``body_item``'s ``source``) is a generator, its suspended frame is
at the ``yield`` that produced the chunk, and that is the line; other iterables (a list
returned) have none. WSGI-019/020 (Content-Length differs from the bytes sent) are judged at
the end: the line is the ``start_response`` call that declared the length, kept as a code
object and an offset when a Content-Length is declared (the only cost a correct app pays for
it). WSGI-001 of an app whose generator yielded a body without ever calling start_response is
that ``yield``. The other rules judged at the end (WSGI-001 otherwise, 016, 022) have no line:
``trace check`` shows the app's ``def`` line then. An app instrumented for two recorders (a
test wrapping an app instrumented already) is located the same by both: the outer checker
looks through the inner shim, its ``start_response`` and its response wrapper, to the app.

One mistake, one finding: a rule that only follows from another is not reported with it. A
body before any start_response is WSGI-003 if start_response came later, else WSGI-001 (so
it is judged when one of the two happens); a header that names Content-Type in the wrong
form (WSGI-008/009) is not also WSGI-016; a body chunk that was not bytes (WSGI-014/015/018)
leaves the body's size unknown, so no WSGI-019/020. Imports only the conformance package.
"""

from __future__ import annotations

import re
import sys
from http import HTTPStatus
from types import CodeType, GeneratorType
from typing import TYPE_CHECKING, Any, Literal

from tracer.conformance.base import OWN_DIR, Checker, Locator, Report, Site, short
from tracer.conformance.schema import DEFAULT_VERDICTS, NO_BODY_STATUS, wsgi_headers

if TYPE_CHECKING:
    from tracer.redact import HeaderVerdicts

__all__ = ["WsgiChecker"]

_getframe = sys._getframe


# Every standard status line ("200 OK", "404 Not Found"): most apps send one of these.
_KNOWN_STATUS: dict[str, int] = {f"{s.value} {s.phrase}": s.value for s in HTTPStatus}


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""A control character: PEP 3333 allows none in the status (CR and LF would split the
response, NUL and ESC go out as they are through servers that do not look)."""


def _status_code(status: str) -> int:
    """The code of a well-formed status line, or -1: three digits (100-599), one space and a
    reason phrase of latin-1 text (PEP 3333: the status is a native string that servers
    encode as ISO-8859-1; gunicorn and waitress answer 500 for one that is not) without
    control characters."""
    code = _KNOWN_STATUS.get(status)
    if code is not None:
        return code
    if len(status) < 5 or status[3] != " " or not status[:3].isdigit() or not status[:3].isascii():
        return -1
    reason = status[4:]
    if not reason.strip() or _CONTROL.search(reason) or not _latin1(reason):
        return -1
    code = int(status[:3])
    return code if 100 <= code <= 599 else -1


def _latin1(text: str) -> bool:
    return text.isascii() or max(text) <= "\xff"


def _status_fault(status: str) -> str:
    """What is wrong with a status ``_status_code`` refused, for the finding's message:
    the line as sent (cut), and the character a server would choke on when that is why."""
    got = f"got {status!r:.60}"
    reason = status[4:] if len(status) > 4 else ""
    control = _CONTROL.search(reason)
    if control is not None:
        return f"{got}: the reason holds the control character {control.group()!r}"
    if not _latin1(reason):
        char = next(c for c in reason if c > "\xff")
        return f"{got}: the reason holds {char!r}, which is not latin-1"
    return got


_SHIM_BODY_MODULE = "tracer.shim.wsgi_body"
"""Where the shim's response wrapper (``TracedBody``) lives: named, not imported, as this
package imports nothing of the shim's."""

_MAX_NESTING = 40
"""Shims looked through: the app instrumented for more recorders than this is not expected."""


def _app_iterator(source: Any) -> Any:
    """The app's own iterator behind ``source``, the iterator a shim took the chunk from.

    Nested shims (the app instrumented for two recorders) hand the outer one the inner shim's
    response wrapper, which keeps the app's iterator in its ``_iter`` slot: look through it
    (and through more of them), so a generator's ``yield`` is found by every recorder.
    """
    for _ in range(_MAX_NESTING):
        if type(source).__module__ != _SHIM_BODY_MODULE:
            break
        source = getattr(source, "_iter", None)
    return source


def _innermost(generator: GeneratorType[Any, Any, Any]) -> Site | None:
    """(file, line) of the innermost suspended generator outside the tracer in a
    ``yield from`` chain starting at ``generator``."""
    site: Site | None = None
    current: Any = generator
    for _ in range(40):
        if type(current) is not GeneratorType:
            break
        frame = current.gi_frame
        if frame is None:
            break
        filename = current.gi_code.co_filename
        if not filename.startswith(OWN_DIR):
            site = (filename, frame.f_lineno)
        current = current.gi_yieldfrom
    return site


def _call_site(at: tuple[CodeType, int] | None) -> Site | None:
    """(file, line) of the instruction at offset ``at[1]`` of code ``at[0]``, unless that code
    is the tracer's own (a second shim: the app instrumented for two recorders)."""
    if at is None:
        return None
    code, offset = at
    if code.co_filename.startswith(OWN_DIR):
        return None
    for start, end, line in code.co_lines():
        if start <= offset < end and line is not None:
            return code.co_filename, line
    return None


def _declared(declared: Any, limit: int) -> str:
    """The request's CONTENT_LENGTH as the environ gave it, for a WSGI-023 message: an app
    that read a body the server did not announce learns that there was no length at all."""
    if declared is None:
        return "no CONTENT_LENGTH"
    if declared == "":
        return "CONTENT_LENGTH is empty"
    return f"CONTENT_LENGTH is {limit}"


def _chunk_locator(source: Any) -> bool | Locator:
    """The ``locate`` of a rule about a chunk the app's iterator ``source`` just produced: a
    generator is suspended at the ``yield`` that produced it (looked up only if the rule is
    reported); any other iterable has no line."""
    source = _app_iterator(source)
    if type(source) is not GeneratorType:
        return False
    return lambda: _innermost(source)


class WsgiChecker(Checker):
    """Checks one WSGI request against PEP 3333; the shim calls the hooks in protocol order."""

    # ``_declared_at`` is set only by a start_response that declares a Content-Length (read
    # with getattr): a request without one pays nothing for it, not even in __init__.
    # ``_early`` is False until a body chunk comes before any start_response (then where it
    # was yielded, or None): one store here costs less than a failed lookup at every request.
    __slots__ = (
        "environ",
        "verdicts",
        "_started",
        "_code",
        "_length",
        "_sent",
        "_iterating",
        "_typed",
        "_declared_at",
        "_early",
    )

    def __init__(
        self,
        environ: dict[str, Any],
        report: Report,
        *,
        verdicts: HeaderVerdicts | None = DEFAULT_VERDICTS,
    ) -> None:
        self.report = report  # Checker.__init__, inlined: once per request on the hot path
        self._flagged = None
        self.environ = environ
        self.verdicts = verdicts
        """The shim's header verdicts (``tracer.redact.header_verdicts``; None: it redacts
        nothing): a finding quotes a header's value as the shim records it."""
        self._started = False
        self._code = 0
        self._length: int | None = None
        self._sent = 0
        self._iterating = False
        self._typed = True
        self._early: Site | None | Literal[False] = False

    def start_response(self, status: Any, headers: Any, exc_info: Any) -> None:
        """``start_response(status, headers, exc_info)`` was called."""
        if not self._started and self._early is not False:
            self._flag("WSGI-003", locate=self._early_site)
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
                self._flag("WSGI-005", _status_fault(status))
            elif code < 200:
                self._flag("WSGI-006", status)
            self._code = code
        length, self._typed = wsgi_headers(headers, self._flag, verdicts=self.verdicts)
        self._length = length
        if length is not None:
            # WSGI-019/020 are judged at the end, when this call's frame is gone: keep where
            # the app made it. This hook is called by the shim's start_response, so that is
            # the frame above it; a code object and an offset are the least a frame gives
            # (the line is worked out, and the frame's owner checked, only for a violation).
            try:
                frame = _getframe(2)
            except ValueError:  # not called through the shim (from a script's top level)
                pass
            else:
                caller = frame.f_code
                # Nested shims: the caller is the inner shim's start_response, not the app;
                # its name is compared first so that the app's own frame costs next to nothing.
                while caller.co_name == "start_response" and caller.co_filename.startswith(OWN_DIR):
                    back = frame.f_back
                    if back is None:
                        break
                    frame, caller = back, back.f_code
                self._declared_at = (caller, frame.f_lasti)

    def write(self, data: Any) -> None:
        """The legacy ``write(data)`` callable was called."""
        if self._iterating:
            self._flag("WSGI-017")
        if type(data) is not bytes:
            self._flag("WSGI-018", f"got {type(data).__name__}")
            return
        self._count(len(data))

    def body_item(self, item: Any, source: Any = None) -> None:
        """The app's iterable produced ``item`` (``source``: the iterator it came from)."""
        # The item comes back from next() on the app's iterable: the app's frame is no longer on
        # the stack, only the server's (a thread's run(), say). A generator's suspended frame
        # still says where it yielded; the locator looks only when a rule is reported.
        self._iterating = True
        if type(item) is not bytes:
            if type(item) is int or (type(item) is str and len(item) == 1):
                self._flag("WSGI-015", f"an item is {short(item)}", locate=_chunk_locator(source))
            else:
                detail = f"got {type(item).__name__} {short(item, 40)}"
                self._flag("WSGI-014", detail, locate=_chunk_locator(source))
            return
        if not self._started and item and self._early is False:
            # WSGI-003 if start_response comes later, else WSGI-001 (the one mistake, said
            # once): which is known only then, and the generator will have moved on by then.
            source = _app_iterator(source)
            self._early = _innermost(source) if type(source) is GeneratorType else None
        if item:
            self._count(len(item), source, from_iterable=True)

    def _count(self, size: int, source: Any = None, *, from_iterable: bool = False) -> None:
        """``size`` more body bytes: from the app's iterator ``source``, else from write()."""
        self._sent += size
        if self._code in NO_BODY_STATUS or 0 < self._code < 200:
            locate = _chunk_locator(source) if from_iterable else True
            self._flag("WSGI-025", f"status {self._code} with {self._sent} bytes", locate=locate)

    def _early_site(self) -> Site | None:
        """Where the first body chunk before any start_response was yielded, if known."""
        early = self._early
        return None if early is False else early

    def input_read(self, total_bytes: int) -> None:
        """``wsgi.input`` has now returned ``total_bytes`` in all."""
        environ = self.environ
        if environ.get("wsgi.input_terminated"):
            return  # a chunked body: the server ends the stream, any read size is fine
        declared = environ.get("CONTENT_LENGTH")
        try:
            limit = int(declared) if declared else 0  # empty or absent: no body (PEP 3333)
        except (TypeError, ValueError):
            return  # the server's malformed environ is not the app's fault
        if total_bytes > limit:
            self._flag("WSGI-023", f"read {total_bytes} bytes, {_declared(declared, limit)}")

    def finish(
        self, *, close_called: bool, error: BaseException | None, closable: bool = True
    ) -> None:
        """The request is over (iteration ended, or the app raised).

        ``closable`` says whether the app's own response iterable has a ``close()``: PEP 3333
        asks the server to call it only then, so a plain list dropped unclosed breaks nothing.
        """
        early = self._early is not False
        if error is not None:
            # The exception is recorded as an error event; what follows is moot, but a body
            # that came before any start_response was a mistake already.
            if early and not self._started:
                self._flag("WSGI-003", locate=self._early_site)
            return
        if not self._started:
            # A body produced without it is this mistake too, not a WSGI-003 of its own.
            detail = "the iterable produced a body without it" if early else ""
            self._flag("WSGI-001", detail, locate=self._early_site if early else False)
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
            # A chunk that was not bytes has no size on the wire: WSGI-014/015/018 said so.
            and not self._flagged_any("WSGI-014", "WSGI-015", "WSGI-018")
        ):
            rule_id = "WSGI-019" if self._sent > length else "WSGI-020"
            declared_at = getattr(self, "_declared_at", None)
            self._flag(
                rule_id,
                f"sent {self._sent}, declared {length}",
                locate=lambda: _call_site(declared_at),
            )

"""The rule registry: every protocol rule the checkers enforce, with its id, severity and hint.

One place spells the rules, so ``docs/rules.md``, ``trace check`` and the recordings all say
the same thing. Imports nothing of ours.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Rule", "RULES", "ERROR", "WARNING", "INTERFACES", "rule"]

ERROR = "error"
WARNING = "warning"

# Interface name -> the title docs/rules.md gives its section, in document order.
INTERFACES: dict[str, str] = {
    "wsgi": "WSGI (PEP 3333)",
    "asgi": "ASGI messages (all scopes)",
    "http": "ASGI http",
    "websocket": "ASGI websocket",
    "lifespan": "ASGI lifespan",
    "check": "trace check driver",
}


@dataclass(frozen=True, slots=True)
class Rule:
    """One protocol rule."""

    id: str
    """Stable id such as ``WSGI-002``; recordings and suppressions refer to it."""
    severity: str
    """``error`` (the contract is broken; servers differ on what happens) or ``warning``."""
    message: str
    """One line saying what is wrong."""
    hint: str
    """One line saying how to fix it."""
    interface: str
    """A key of ``INTERFACES``."""


_HOP = "Connection, Keep-Alive, Transfer-Encoding, TE, Trailer, Upgrade, Proxy-*"

# fmt: off
_TABLE: tuple[tuple[str, str, str, str], ...] = (
    # -- WSGI -------------------------------------------------------------------------------------
    ("WSGI-001", ERROR, "start_response was never called",
     "Call start_response(status, headers) before returning the response iterable."),
    ("WSGI-002", ERROR, "start_response called again without exc_info",
     "Call it once; a second call is allowed only from an error handler, with exc_info=sys.exc_info()."),
    ("WSGI-003", ERROR, "body produced before start_response was called",
     "Call start_response before the iterable yields its first bytestring."),
    ("WSGI-004", ERROR, "status is not a str",
     "Pass the status as a native str such as '200 OK'."),
    ("WSGI-005", ERROR, "status is not of the form '<3-digit code> <reason>' in latin-1",
     "Use a status line like '404 Not Found': code 100-599, one space, a reason phrase of "
     "latin-1 text without control characters."),
    ("WSGI-006", WARNING, "informational (1xx) status used as the response status",
     "Servers send 100 Continue themselves; a WSGI app cannot send interim responses."),
    ("WSGI-007", ERROR, "response headers are not a list",
     "Pass a list of (name, value) tuples: PEP 3333 requires type(headers) is list."),
    ("WSGI-008", ERROR, "a response header is not a (name, value) tuple",
     "Each header is a 2-tuple of str: ('Content-Type', 'text/plain')."),
    ("WSGI-009", ERROR, "a header name or value is not a str",
     "Header names and values are native str, not bytes or numbers: str(len(body))."),
    ("WSGI-010", ERROR, "a header name or value is not latin-1 encodable",
     "Encode non-latin-1 text first (RFC 8187 filename*=, percent-encoding)."),
    ("WSGI-011", ERROR, "invalid header name",
     "Header names are HTTP tokens: letters, digits and !#$%&'*+-.^_`|~ (no spaces or ':')."),
    ("WSGI-012", ERROR, "header value contains a control character (CR, LF or NUL)",
     "Strip CR and LF from values: they split the response."),
    ("WSGI-013", ERROR, "hop-by-hop header set by the application",
     f"Leave {_HOP} to the server; PEP 3333 forbids them in apps."),
    ("WSGI-014", ERROR, "response body item is not bytes",
     "Yield bytes: encode str with .encode('utf-8')."),
    ("WSGI-015", ERROR, "the response is a bytes or str object, iterated item by item",
     "Return a list: [body]; iterating bytes yields ints and a str yields characters."),
    ("WSGI-016", WARNING, "no Content-Type header on a response with a body",
     "Set Content-Type, e.g. 'text/html; charset=utf-8': clients otherwise guess from the bytes."),
    ("WSGI-017", ERROR, "write() called after iteration of the response began",
     "Use write() only before returning the iterable, or yield every chunk instead."),
    ("WSGI-018", ERROR, "write() data is not bytes",
     "Pass bytes to write(); encode str first."),
    ("WSGI-019", ERROR, "more body bytes than Content-Length",
     "Make Content-Length match the body, or leave it out and let the server frame the body."),
    ("WSGI-020", ERROR, "fewer body bytes than Content-Length",
     "Make Content-Length match the body; clients wait for the missing bytes."),
    ("WSGI-021", ERROR, "Content-Length is not one non-negative integer",
     "Send one Content-Length with the decimal byte count of the body."),
    ("WSGI-022", ERROR, "close() of the response iterable was not called",
     "The server must call close() (also after errors); a middleware wrapping the iterable must forward it."),
    ("WSGI-023", ERROR, "wsgi.input read past CONTENT_LENGTH",
     "Read at most int(environ['CONTENT_LENGTH']) bytes; read() with no size may block or eat the next request. "
     "Judged by the bytes reads return, so only trace check shows it (its wsgi.input goes on into the next "
     "request's bytes); trace run cannot: every server it drives stops wsgi.input at CONTENT_LENGTH."),
    ("WSGI-024", ERROR, "exc_info is neither None nor a (type, value, traceback) tuple",
     "Pass exc_info=sys.exc_info() from inside an except block, or nothing."),
    ("WSGI-025", WARNING, "body sent with a status that forbids one (1xx, 204, 304)",
     "Send no body with 204 No Content or 304 Not Modified."),
    ("WSGI-026", ERROR, "start_response or write called after the request ended",
     "Use them only while serving the request they were given for; never keep them for a thread or a later request."),
    # -- ASGI, any scope --------------------------------------------------------------------------
    ("ASGI-001", ERROR, "sent message is not a dict",
     "Send a dict such as {'type': 'http.response.start', ...}."),
    ("ASGI-002", ERROR, "sent message has no str 'type'",
     "Every ASGI message has a 'type' key naming it."),
    ("ASGI-003", ERROR, "send called after the request ended",
     "Send only while the app's call for that connection runs; a task left behind or a later request must not keep its send."),
    # -- ASGI http --------------------------------------------------------------------------------
    ("HTTP-001", ERROR, "http.response.body sent before http.response.start",
     "Send http.response.start (status, headers) first."),
    ("HTTP-002", ERROR, "http.response.start sent twice",
     "Send one http.response.start per request."),
    ("HTTP-003", ERROR, "message sent after the response completed",
     "The response ends with the body whose more_body is false; send nothing after it."),
    ("HTTP-004", ERROR, "the app returned without sending a response",
     "Send http.response.start and http.response.body on every path, errors included."),
    ("HTTP-005", ERROR, "the app returned before the response body completed",
     "Finish with an http.response.body whose more_body is false (or omitted)."),
    ("HTTP-006", ERROR, "status is not an int",
     "Send 'status': 200, not '200' or '200 OK'."),
    ("HTTP-007", ERROR, "status outside 100-599",
     "Use a valid HTTP status code."),
    ("HTTP-008", WARNING, "informational (1xx) status used as the final response",
     "Send a final status (200-599); servers handle 100 Continue themselves."),
    ("HTTP-009", ERROR, "headers are not an iterable of [name, value] pairs",
     "Send 'headers': [(b'content-type', b'text/plain')]."),
    ("HTTP-010", ERROR, "a header name or value is not bytes",
     "Encode header names and values: (b'content-length', str(n).encode())."),
    ("HTTP-011", WARNING, "header name is not lowercase",
     "ASGI header names are lowercase bytes; middleware matching b'content-encoding' misses b'Content-Encoding'."),
    ("HTTP-012", ERROR, "header name or value contains invalid bytes (CR, LF, NUL, or non-token name)",
     "Strip CR and LF from values; header names are HTTP tokens."),
    ("HTTP-013", WARNING, "hop-by-hop header set by the application",
     f"Leave {_HOP} to the server: it frames the response."),
    ("HTTP-014", ERROR, "body is not bytes",
     "Send 'body': b'...' (encode str first)."),
    ("HTTP-015", WARNING, "more_body is not a bool",
     "Send 'more_body': True or False."),
    ("HTTP-016", ERROR, "more body bytes than content-length",
     "Make content-length match the body, or leave it out."),
    ("HTTP-017", ERROR, "fewer body bytes than content-length",
     "Make content-length match the body; clients wait for the missing bytes."),
    ("HTTP-018", ERROR, "content-length is not one non-negative integer",
     "Send one content-length header with the decimal byte count."),
    ("HTTP-019", ERROR, "message type not valid for an http scope",
     "http apps send http.response.start, http.response.body (and advertised extensions)."),
    ("HTTP-020", WARNING, "receive() called again after http.disconnect",
     "Stop receiving once http.disconnect arrives: no more messages will come."),
    ("HTTP-021", ERROR, "http.response.trailers sent without 'trailers': True in http.response.start",
     "Announce trailers in http.response.start before sending them."),
    ("HTTP-022", ERROR, "http.response.trailers sent before the body completed",
     "Send the last body chunk (more_body false) first, then the trailers."),
    ("HTTP-023", ERROR, "trailers announced but the app returned without sending them",
     "After 'trailers': True, finish with http.response.trailers (more_trailers false)."),
    ("HTTP-024", WARNING, "trailers used though the server did not advertise http.response.trailers",
     "Check scope['extensions'] for 'http.response.trailers' before announcing trailers."),
    ("HTTP-025", WARNING, "body sent with a status that forbids one (1xx, 204, 304)",
     "Send an empty body with 204 No Content or 304 Not Modified."),
    ("HTTP-026", ERROR, "extension message sent though the server did not advertise the extension",
     "Check scope['extensions'] before sending zerocopy, pathsend, push or early_hint."),
    # -- ASGI websocket ---------------------------------------------------------------------------
    ("WS-001", ERROR, "message sent before websocket.accept",
     "Accept the connection first (or close it to reject the handshake)."),
    ("WS-002", ERROR, "websocket.accept sent twice",
     "Accept once per connection."),
    ("WS-003", ERROR, "message sent after the connection closed",
     "Stop sending after websocket.close or after websocket.disconnect arrived."),
    ("WS-004", ERROR, "invalid close code",
     "Use 1000-1003, 1007-1014 or an application code 3000-4999 (never 1004-1006 or 1015)."),
    ("WS-005", ERROR, "websocket.send needs exactly one of 'bytes' and 'text'",
     "Send {'type': 'websocket.send', 'text': '...'} or with 'bytes': b'...', not both."),
    ("WS-006", ERROR, "websocket.send 'text' is not str or 'bytes' is not bytes",
     "Text frames carry str, binary frames carry bytes."),
    ("WS-007", WARNING, "accepted a subprotocol the client did not offer",
     "Pick the subprotocol from scope['subprotocols']."),
    ("WS-008", ERROR, "websocket.accept headers are not [name, value] bytes pairs",
     "Send 'headers': [(b'name', b'value')]."),
    ("WS-009", WARNING, "close reason is not a str of at most 123 UTF-8 bytes",
     "Keep the close reason short text: the close frame holds 125 bytes."),
    ("WS-010", ERROR, "message type not valid for a websocket scope",
     "websocket apps send websocket.accept, websocket.send and websocket.close."),
    ("WS-011", WARNING, "receive() called again after websocket.disconnect",
     "Stop receiving once websocket.disconnect arrives."),
    ("WS-012", ERROR, "denial response sent without the websocket.http.response extension, or after accept",
     "Check scope['extensions'] for 'websocket.http.response'; deny only before accepting."),
    ("WS-013", WARNING, "the app returned without accepting or closing the handshake",
     "Send websocket.accept or websocket.close; servers answer 403 or 500 on their own otherwise."),
    ("WS-014", ERROR, "denial response body before its websocket.http.response.start",
     "Send websocket.http.response.start first."),
    # -- ASGI lifespan ----------------------------------------------------------------------------
    ("LS-001", WARNING, "lifespan.startup.failed without a message",
     "Say why: {'type': 'lifespan.startup.failed', 'message': str(exc)}; servers log it as the reason."),
    ("LS-002", ERROR, "lifespan message out of order",
     "Answer lifespan.startup only after receiving it, and lifespan.shutdown only after receiving it."),
    ("LS-003", ERROR, "lifespan startup or shutdown answered twice",
     "Send one complete or failed per phase."),
    ("LS-004", ERROR, "message type not valid for a lifespan scope",
     "lifespan apps send lifespan.startup.complete/failed and lifespan.shutdown.complete/failed."),
    ("LS-005", ERROR, "the app returned without answering lifespan.startup",
     "Send lifespan.startup.complete (or .failed) before returning."),
    ("LS-006", WARNING, "the app returned without answering lifespan.shutdown",
     "Send lifespan.shutdown.complete (or .failed) before returning."),
    ("LS-007", WARNING, "lifespan.shutdown.failed without a message",
     "Say why: {'type': 'lifespan.shutdown.failed', 'message': str(exc)}; servers log it as the reason."),
    ("LS-008", WARNING, "the app raised after lifespan.startup.complete",
     "Report shutdown problems with lifespan.shutdown.failed instead of raising."),
    # -- trace check driver -----------------------------------------------------------------------
    ("CHK-001", ERROR, "the app did not finish the request within the timeout",
     "A handler that never returns holds a worker or a task forever; check for missing responses or waits."),
    ("CHK-002", WARNING, "HEAD answered with a server error (5xx) where GET succeeded",
     "Answer HEAD as GET without the body (Flask and Starlette do it for you); a handler that branches on the method must not leave HEAD without a response."),
    ("CHK-003", ERROR, "the app raised in every request it was sent: none got an answer from it",
     "Send one request by hand and read the traceback: an app that fails on every request is broken as a whole "
     "(a WSGI app run as ASGI with --interface asgi, a setting or service it needs and lacks)."),
)
# fmt: on

_INTERFACE_OF_PREFIX = {
    "WSGI": "wsgi",
    "ASGI": "asgi",
    "HTTP": "http",
    "WS": "websocket",
    "LS": "lifespan",
    "CHK": "check",
}

RULES: dict[str, Rule] = {
    rule_id: Rule(rule_id, severity, message, hint, _INTERFACE_OF_PREFIX[rule_id.split("-")[0]])
    for rule_id, severity, message, hint in _TABLE
}
"""Every rule by id, in document order."""


def rule(rule_id: str) -> Rule:
    """The rule with id ``rule_id`` (raises ``KeyError`` for an unknown id)."""
    return RULES[rule_id]

"""What an ASGI scope and message say, in the words of a recording, read without copying.

The ASGI shim calls these on every request and message: ``scope_query`` and ``scope_headers``
for ``request.start`` (secrets redacted, as the WSGI shim redacts them), ``summarize_message``
for ``asgi.receive`` / ``asgi.send``, ``websocket_detail`` for the one more thing a WebSocket
message says (a text frame, a close's reason, the accepted subprotocol). Bodies are never
kept, only their sizes (a file the app has the server send, ``http.response.pathsend`` /
``zerocopysend``, counts its size), and ``failure_message`` for the app's words in a lifespan
failure. Imports ``tracer.redact`` and
``tracer.shim.frames``' message limit only; never the TUI, exporters, server models or CLI.
"""

from __future__ import annotations

import os
from typing import Any

from tracer.events import encodable
from tracer.redact import HeaderVerdicts, redact_headers, redact_query
from tracer.shim.frames import MESSAGE_LIMIT

__all__ = [
    "scope_query",
    "scope_headers",
    "summarize_message",
    "websocket_detail",
    "LIFESPAN_FAILURES",
    "failure_message",
]

LIFESPAN_FAILURES = frozenset({"lifespan.startup.failed", "lifespan.shutdown.failed"})
"""The messages by which an app says its lifespan startup or shutdown failed; their optional
``message`` is recorded (``failure_message``)."""


def scope_query(query: bytes | str, redact: bool) -> str:
    """The query string as text, secret-looking values redacted unless ``redact`` is off."""
    if redact:
        return redact_query(query)
    return query if isinstance(query, str) else query.decode("latin-1")


def scope_headers(
    headers: Any, verdicts: HeaderVerdicts | None, secret: frozenset[str]
) -> tuple[str, ...]:
    """The scope's headers as one flat tuple of text ``(name, value, name, value, ...)``, secret
    values redacted and URL values with their secrets redacted (a ``name:pairs`` value of a
    packed row).

    ``verdicts`` (``header_verdicts(secret)``, None to keep every value) is looked up by the
    bytes name as the server gave it: after a connection's first request, one dict lookup per
    header. ``secret`` (the shim's names) serves anything but bytes pairs.
    """
    if not headers:
        return ()
    flat: list[str] = []
    add = flat.append
    try:
        if verdicts is None:
            for name, value in headers:
                add(name.decode("latin-1"))
                add(value.decode("latin-1"))
        else:
            for name, value in headers:
                add(name.decode("latin-1"))
                verdict = verdicts[name]
                add(verdicts.hidden(verdict, name, value) if verdict else value.decode("latin-1"))
    except (AttributeError, TypeError, ValueError):  # not bytes pairs: the general helper
        return tuple(item for pair in redact_headers(headers, secret) for item in pair)
    return tuple(flat)


def summarize_message(message: Any) -> tuple[Any, int | None, int | None, bool | None, int | None]:
    """(type, status, bytes, more_body, close code) of one ASGI message, without copying it.

    A malformed message (not a mapping, wrong field types) is the app's doing: it is recorded
    with what can be read and left to the conformance checker to judge.
    """
    try:
        get = message.get
        mtype = get("type")
        if mtype == "http.response.body" or mtype == "http.request":
            body = get("body")
            return mtype, None, len(body) if body else 0, bool(get("more_body", False)), None
        if mtype == "http.response.start" or mtype == "websocket.http.response.start":
            return mtype, get("status"), None, None, None
        if mtype == "websocket.send" or mtype == "websocket.receive":
            data = get("bytes")
            if data is None:
                text = get("text")
                return mtype, None, len(text.encode("utf-8")) if text else 0, None, None
            return mtype, None, len(data), None, None
        if mtype == "websocket.close":
            return mtype, None, None, None, get("code", 1000)
        if mtype == "websocket.disconnect":  # a server sets 1005 when the client sent no code
            return mtype, None, None, None, get("code", 1005)
        if mtype == "websocket.http.response.body":
            body = get("body")
            return mtype, None, len(body) if body else 0, bool(get("more_body", False)), None
        if mtype == "http.response.pathsend":  # the whole body, from a file the server sends
            return mtype, None, _file_size(get("path")), False, None
        if mtype == "http.response.zerocopysend":
            count = get("count")
            if not isinstance(count, int) or isinstance(count, bool):
                count = _bytes_to_end(get("file"), get("offset"))
            return mtype, None, count, bool(get("more_body", False)), None
        return encodable(mtype), None, None, None, None  # an unknown type: the app's string
    except Exception:
        return None, None, None, None, None


def websocket_detail(message: Any) -> tuple[str, Any] | None:
    """The one field a WebSocket message adds to its ``asgi.send`` / ``asgi.receive`` past
    ``summarize_message``'s, as ``(key, value)``; None when it adds none.

    ``("text", True)`` for a ``websocket.send`` / ``websocket.receive`` that carried ``text``
    (a binary one carries ``bytes`` and adds nothing: frames of the same size tell apart);
    ``("reason", ...)`` for a ``websocket.close`` / ``websocket.disconnect`` with a non-empty
    ``reason``; ``("subprotocol", ...)`` for a ``websocket.accept`` that chose one. A reason
    or subprotocol is the app's (or the client's) own words, kept as they are, not redacted,
    cut to ``MESSAGE_LIMIT`` characters as an error's message is. Meant for a WebSocket
    scope's messages only (an HTTP request's never pay for it); never raises.
    """
    try:
        get = message.get
        mtype = get("type")
        if mtype == "websocket.send" or mtype == "websocket.receive":
            # What the server sends or got is the ``bytes`` when there are any (the spec: one
            # of the two is None), else the ``text``.
            if get("bytes") is None and get("text") is not None:
                return ("text", True)
            return None
        if mtype == "websocket.close" or mtype == "websocket.disconnect":
            said = _words(get("reason"))
            return None if said is None else ("reason", said)
        if mtype == "websocket.accept":
            said = _words(get("subprotocol"))
            return None if said is None else ("subprotocol", said)
        return None
    except Exception:
        return None


def _words(value: Any) -> str | None:
    """An app's string field as recorded: None when absent or empty, another type as its
    ``str()`` (the checker judges the type), cut to ``MESSAGE_LIMIT`` characters, a lone
    surrogate spelled out."""
    if value is None or value == "":
        return None
    text = value if isinstance(value, str) else str(value)
    return encodable(text[:MESSAGE_LIMIT])


def failure_message(message: Any) -> str | None:
    """The app's words in a lifespan failure message (its optional ``message``), cut to
    ``MESSAGE_LIMIT`` characters as an error's message is, a lone surrogate spelled out; one
    of another type as its ``str()`` (the checker judges the type); None when there is none.
    Not redacted: it is the app's own text, as an exception's message is."""
    try:
        text = message.get("message")
        if text is None:
            return None
        return encodable((text if isinstance(text, str) else str(text))[:MESSAGE_LIMIT])
    except Exception:
        return "<unprintable message>"


def _file_size(path: Any) -> int | None:
    """The size of the file at ``path`` (what a ``pathsend`` sends), None when it cannot be
    read (the server then fails the send; the app's message is recorded all the same)."""
    try:
        return os.stat(path).st_size
    except (OSError, TypeError, ValueError):
        return None


def _bytes_to_end(file: Any, offset: Any) -> int | None:
    """What a ``zerocopysend`` without ``count`` sends: the file from ``offset`` (else from its
    current position) to its end; None when that cannot be read."""
    try:
        fd = file if isinstance(file, int) else file.fileno()
        if not isinstance(offset, int):
            offset = os.lseek(fd, 0, os.SEEK_CUR)
        return max(0, os.fstat(fd).st_size - offset)
    except (AttributeError, OSError, TypeError, ValueError):
        return None

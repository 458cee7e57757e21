"""Field layouts of the rows the ASGI shim packs: which data keys a row's values stand for.

The shim builds its rows by hand, in ``tracer.events.FIELDS`` order, with one of these tuples
of key names followed by the values in that order (``tracer.events.unpack_row``). A layout is
one shared tuple per shape of row, so a row holds no container of its own for its keys.
Imports nothing; never the TUI, exporters, server models or CLI.
"""

from __future__ import annotations

__all__ = [
    "START_KEYS",
    "RECEIVE_KEYS",
    "detailed_keys",
    "RECEIVE_CODE_KEYS",
    "RECEIVE_RAISED_KEYS",
    "SEND_KEYS",
    "SEND_CODE_KEYS",
    "SEND_RAISED_KEYS",
    "SEND_CODE_RAISED_KEYS",
    "END_KEYS",
    "END_ROUTE_KEYS",
    "END_CUT_KEYS",
    "END_ROUTE_CUT_KEYS",
    "SEND_MESSAGE_KEYS",
    "SEND_MESSAGE_RAISED_KEYS",
]

# request.start: client and server travel as tuples, headers as one flat tuple (see
# ``tracer.events._decoders``), so the row holds no container the GC would have to follow.
START_KEYS = (
    "method",
    "path",
    "query",
    "http_version",
    "scheme",
    "client:list",
    "server:list",
    "interface",
    "scope_type",
    "headers:pairs",
    "asgi_version",
)
RECEIVE_KEYS = ("type", "bytes", "more_body")
RECEIVE_CODE_KEYS = ("type", "bytes", "more_body", "code")
SEND_KEYS = ("type", "status", "bytes", "more_body")
SEND_CODE_KEYS = ("type", "status", "bytes", "more_body", "code")
# A receive or send that raised (the server's, or a cancellation while waiting in it): what
# was sent, and the exception's type name.
RECEIVE_RAISED_KEYS = ("type", "bytes", "more_body", "raised")
SEND_RAISED_KEYS = (*SEND_KEYS, "raised")
SEND_CODE_RAISED_KEYS = (*SEND_CODE_KEYS, "raised")
# A lifespan failure's send: its ``message``, the app's words.
SEND_MESSAGE_KEYS = (*SEND_KEYS, "message")
SEND_MESSAGE_RAISED_KEYS = (*SEND_KEYS, "message", "raised")
END_KEYS = ("status", "bytes_in", "bytes_out", "error")
END_ROUTE_KEYS = (*END_KEYS, "route")
# An end whose response was cut short: ``cut_short`` true, last.
END_CUT_KEYS = (*END_KEYS, "cut_short")
END_ROUTE_CUT_KEYS = (*END_ROUTE_KEYS, "cut_short")


_DETAILED: dict[tuple[tuple[str, ...], str], tuple[str, ...]] = {}


def detailed_keys(keys: tuple[str, ...], key: str) -> tuple[str, ...]:
    """``keys`` with ``key`` after them, as one shared tuple per shape (a row's keys are
    decoded once per tuple: ``tracer.events.from_rows``): a WebSocket message's one field more
    (``tracer.shim.messages.websocket_detail``)."""
    found = _DETAILED.get((keys, key))
    if found is None:
        found = _DETAILED[(keys, key)] = (*keys, key)
    return found

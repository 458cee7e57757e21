"""Shape checks shared by the checkers: header lists, Content-Length, status codes, ints.

Each check takes the checker's ``flag(rule_id, detail)`` and calls it for what is wrong, so
the common case (well-formed headers) costs a few type checks and set lookups per header and
allocates nothing but the lowercased name. A message that quotes a header's value quotes it as
the shims record it (``verdicts``: a secret's replaced, a URL's credentials and secret query
values redacted), since the message is recorded too. Imports only ``tracer.redact``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeGuard

from tracer.redact import DEFAULT_SECRET_HEADERS, HeaderVerdicts

__all__ = [
    "Flag",
    "HOP_BY_HOP",
    "NO_BODY_STATUS",
    "wsgi_headers",
    "asgi_headers",
    "is_int",
]

Flag = Callable[..., None]
"""A checker's ``_flag(rule_id, detail="")``."""

DEFAULT_VERDICTS: HeaderVerdicts = DEFAULT_SECRET_HEADERS.verdicts
"""What the checks redact quoted values by unless told otherwise: the shims' default."""

HOP_BY_HOP: frozenset[str] = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
"""Header names that describe one connection, not the message: the server's to set."""

_HOP_BY_HOP_BYTES = frozenset(name.encode() for name in HOP_BY_HOP)

NO_BODY_STATUS = frozenset({204, 304})
"""Statuses whose responses carry no body (with 1xx)."""

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TOKEN_BYTES = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL_BYTES = re.compile(rb"[\x00\r\n]")
_CONTROL = re.compile(r"[\x00\r\n]")
# Names seen on nearly every response skip the token regex.
_COMMON = frozenset(
    {
        "content-type",
        "content-length",
        "cache-control",
        "set-cookie",
        "location",
        "date",
        "server",
        "etag",
        "last-modified",
        "vary",
        "content-encoding",
        "content-disposition",
        "x-content-type-options",
    }
)
_COMMON_BYTES = frozenset(name.encode() for name in _COMMON)
# WSGI apps spell names in canonical case ("Content-Type") or in lowercase.
_COMMON = _COMMON | frozenset("-".join(part.capitalize() for part in n.split("-")) for n in _COMMON)
_CONTENT_LENGTH = frozenset({"content-length", "Content-Length"})
_CONTENT_TYPE = frozenset({"content-type", "Content-Type"})


_BAD = -1


def _length(value: str | bytes, length: int | None) -> int | None:
    """Fold one Content-Length value into the length seen so far (``_BAD`` once malformed)."""
    if length == _BAD or not (value.isdigit() and value.isascii()):
        return _BAD
    number = int(value)
    return number if length is None or number == length else _BAD


def _values(headers: Any, name: str, verdicts: HeaderVerdicts | None) -> list[Any]:
    """Every value of header ``name`` (lowercase str), for messages, each as ``_shown_value``
    shows it; tolerant of bad shapes."""
    found = []
    for header in headers:
        if isinstance(header, (tuple, list)) and len(header) == 2:
            key = header[0].decode("latin-1") if isinstance(header[0], bytes) else str(header[0])
            if key.lower() == name:
                found.append(_shown_value(header[0], header[1], verdicts))
    return found


def _verdict(verdicts: HeaderVerdicts, name: Any) -> int:
    """``verdicts[name]``; a name no header could have (unhashable: a list) keeps its value."""
    try:
        return verdicts[name]
    except TypeError:
        return 0


def _shown_value(name: Any, value: Any, verdicts: HeaderVerdicts | None) -> Any:
    """Header ``name``'s ``value`` as a message may quote it: as the shims record it (a
    secret's ``[redacted]``, a URL's with its secrets redacted), bytes kept bytes so the quote
    still shows what the app sent; as it is with ``verdicts`` None (redaction off). A value
    holding line breaks (a ``Set-Cookie`` line injected into another header's value) has each
    line after its first redacted as a header of its own."""
    if verdicts is None:
        return value
    verdict = _verdict(verdicts, name)
    if verdict:
        shown = verdicts.hidden(verdict, name, value)
        return shown.encode("latin-1", "replace") if isinstance(value, bytes) else shown
    if isinstance(value, str) and "\n" in value:
        first, *rest = value.split("\n")
        return "\n".join([first, *(_line_shown(line, verdicts) for line in rest)])
    if isinstance(value, bytes) and b"\n" in value:
        head, *tail = value.split(b"\n")
        return b"\n".join([head, *(_line_shown(line, verdicts) for line in tail)])
    return value


def _line_shown(line: Any, verdicts: HeaderVerdicts) -> Any:
    """A ``"Name: value"`` line (text or bytes) with its value shown as ``_shown_value``
    shows it, the spaces around the value kept; ``line`` itself when that changes nothing
    (no colon, a header whose value is kept)."""
    colon = b":" if isinstance(line, bytes) else ":"
    name, sep, value = line.partition(colon)
    if not sep:
        return line
    core = value.strip()
    hidden = _shown_value(name.strip(), core, verdicts)
    if hidden is core:
        return line
    lead = value[: len(value) - len(value.lstrip())]
    trail = value[len(value.rstrip()) :]
    return name + sep + lead + hidden + trail


def _shown(header: Any, verdicts: HeaderVerdicts | None) -> Any:
    """A malformed header (a tuple of the wrong size or types, a list pair, a ``"Name:
    value"`` line, a dict) as a message may quote it: each value of it ``_shown_value``.
    What holds no name and value (a number, None) is shown as it is."""
    if verdicts is None:
        return header
    if isinstance(header, (tuple, list)) and header:
        name = header[0]
        shown = [name, *(_shown_value(name, value, verdicts) for value in header[1:])]
        return tuple(shown) if isinstance(header, tuple) else shown
    if isinstance(header, (str, bytes)):
        return _line_shown(header, verdicts)
    if isinstance(header, dict):
        return {key: _shown_value(key, value, verdicts) for key, value in header.items()}
    return header


def _names_content_type(header: Any) -> bool:
    """Whether a malformed header (not a 2-tuple of str) still names Content-Type: a list
    pair, bytes, or one ``"Content-Type: text/plain"`` string. The app did set a type, only in
    the wrong form; WSGI-008/009 say so, and WSGI-016 would say the same mistake again."""
    if isinstance(header, (tuple, list)) and header:
        name = header[0]
    elif isinstance(header, bytes):
        name = header.partition(b":")[0]
    elif isinstance(header, str):
        name = header.partition(":")[0]
    else:
        return False
    if isinstance(name, bytes):
        name = name.decode("latin-1")
    return isinstance(name, str) and name.strip().lower() == "content-type"


def wsgi_headers(
    headers: Any, flag: Flag, *, verdicts: HeaderVerdicts | None = DEFAULT_VERDICTS
) -> tuple[int | None, bool]:
    """Check a PEP 3333 header list.

    Returns the declared Content-Length (None if absent, -1 if malformed) and whether a
    Content-Type is set (True when the list cannot be read: that is flagged already).
    ``verdicts``: the shim's (``tracer.redact.header_verdicts``; None: redaction off), by
    which the values a message quotes are redacted.
    """
    if type(headers) is not list:
        flag("WSGI-007", f"got {type(headers).__name__}")
        if type(headers) is not tuple:
            return None, True  # iterating a generator here would empty it for the server
    length: int | None = None
    typed = False
    for header in headers:
        if type(header) is not tuple or len(header) != 2:
            flag("WSGI-008", f"got {_shown(header, verdicts)!r:.60}")
            typed = typed or _names_content_type(header)
            continue
        name, value = header
        if type(name) is not str or type(value) is not str:
            shown = _shown(header, verdicts)
            flag("WSGI-009", f"({type(name).__name__}, {type(value).__name__}) in {shown!r:.60}")
            typed = typed or _names_content_type(header)
            continue
        if not value.isprintable() and _CONTROL.search(value) is not None:
            flag("WSGI-012", f"{name}: {_shown_value(name, value, verdicts)!r:.60}")
        if not value.isascii():
            try:
                value.encode("latin-1")
            except UnicodeEncodeError:
                flag("WSGI-010", f"{_shown(header, verdicts)!r:.60}")
        if name in _COMMON:  # a well-known, well-formed name: only the body's framing matters
            if name in _CONTENT_LENGTH:
                length = _length(value, length)
            elif name in _CONTENT_TYPE:
                typed = True
            continue
        if _TOKEN.fullmatch(name) is None:
            flag("WSGI-010" if not name.isascii() else "WSGI-011", f"{name!r:.60}")
        lower = name.lower()
        if lower in HOP_BY_HOP:
            flag("WSGI-013", name)
        elif lower == "content-length":
            length = _length(value, length)
        elif lower == "content-type":
            typed = True
    if length == _BAD:
        flag("WSGI-021", f"values {_values(headers, 'content-length', verdicts)!r:.60}")
    return length, typed


_CLEAN_MAX = 512
"""Clean headers remembered at most: the set is emptied when full (per-request values such as
dates and ids would otherwise grow it for ever); the ones every response sends come back at
once."""
_CLEAN: set[tuple[bytes, bytes]] = set()
"""ASGI header tuples seen to break no rule in any response (a lowercase token name that is not
hop-by-hop or Content-Length, a value without control bytes): one set lookup instead of the
checks, since an app sends the same few headers on every response."""


def asgi_headers(
    headers: Any,
    flag: Flag,
    *,
    websocket: bool = False,
    status: int = 0,
    verdicts: HeaderVerdicts | None = DEFAULT_VERDICTS,
) -> int | None:
    """Check ASGI response headers; return the declared content-length (-1 if bad) or None.

    With ``websocket`` (``websocket.accept`` headers) only the shape is checked, as WS-008.
    ``status`` lets a 426 Upgrade Required name the protocol to upgrade to (RFC 9110 15.5.22).
    ``verdicts``: as ``wsgi_headers``'s.
    """
    if type(headers) is not list and type(headers) is not tuple:
        if isinstance(headers, (str, bytes, dict)) or not hasattr(headers, "__iter__"):
            flag("WS-008" if websocket else "HTTP-009", f"got {type(headers).__name__}")
        return None  # another iterable: reading it here could empty it for the server
    length: int | None = None
    for header in headers:
        kind = type(header)
        if (kind is not tuple and kind is not list) or len(header) != 2:
            flag("WS-008" if websocket else "HTTP-009", f"got {_shown(header, verdicts)!r:.60}")
            continue
        name, value = header
        if type(name) is not bytes or type(value) is not bytes:
            which = "WS-008" if websocket else "HTTP-010"
            shown = _shown(header, verdicts)
            flag(which, f"({type(name).__name__}, {type(value).__name__}) in {shown!r:.60}")
            continue
        if websocket:
            continue
        if name == b"content-length":
            if value.isdigit():  # bytes.isdigit() is ASCII-only: no control bytes either
                length = int(value) if length is None else _length(value, length)
                continue
        elif kind is tuple and header in _CLEAN:  # a tuple of two bytes: hashing runs no app code
            continue
        clean = True
        if _CONTROL_BYTES.search(value) is not None:
            flag("HTTP-012", f"{name!r:.40}: {_shown_value(name, value, verdicts)!r:.40}")
            clean = False
        if name not in _COMMON_BYTES:  # well-known names are lowercase tokens, not hop-by-hop
            lower = name.lower()
            if lower != name:
                flag("HTTP-011", f"{name!r:.60}")
                clean = False
            if _TOKEN_BYTES.fullmatch(name) is None:
                flag("HTTP-012", f"{name!r:.60}")
                clean = False
            if lower in _HOP_BY_HOP_BYTES:
                if not (lower == b"upgrade" and status == 426):
                    flag("HTTP-013", name.decode("latin-1"))
                continue  # whether it is flagged depends on the status: never remembered
            if lower == b"content-length":
                length = _length(value, length)
                continue
        if name == b"content-length":
            length = _length(value, length)
        elif clean and kind is tuple:
            if len(_CLEAN) >= _CLEAN_MAX:
                _CLEAN.clear()
            _CLEAN.add(header)
    if length == _BAD:
        flag("HTTP-018", f"content-length values {_values(headers, 'content-length', verdicts)}")
        return -1
    return length


def is_int(value: Any) -> TypeGuard[int]:
    """An int as the ASGI spec means it (a status, a close code): ``HTTPStatus.OK`` and other
    ``IntEnum`` members are (uvicorn, hypercorn and daphne send an ``IntEnum`` status as its
    number), a bool is not (the spec lists booleans apart, and ``True`` goes out as status 1:
    a server error or a broken status line)."""
    return isinstance(value, int) and not isinstance(value, bool)

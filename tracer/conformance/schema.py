"""Shape checks shared by the checkers: header lists, Content-Length, status codes.

Each check takes the checker's ``flag(rule_id, detail)`` and calls it for what is wrong, so
the common case (well-formed headers) costs a few type checks and set lookups per header and
allocates nothing but the lowercased name. Imports nothing of ours.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = [
    "Flag",
    "HOP_BY_HOP",
    "NO_BODY_STATUS",
    "wsgi_headers",
    "asgi_headers",
    "parse_content_length",
    "has_header",
]

Flag = Callable[..., None]
"""A checker's ``_flag(rule_id, detail="")``."""

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


def parse_content_length(values: list[Any]) -> int:
    """The declared length from every Content-Length value seen, or -1 if malformed."""
    lengths = set()
    for value in values:
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        text = text.strip()
        if not text.isdigit() or not text.isascii():
            return -1
        lengths.add(int(text))
    return lengths.pop() if len(lengths) == 1 else -1


def has_header(headers: Any, name: str) -> bool:
    """True if the WSGI header list ``headers`` has ``name`` (lowercase); off the fast path."""
    if type(headers) is not list and type(headers) is not tuple:
        return True  # unreadable headers are flagged elsewhere; do not pile on
    for header in headers:
        if type(header) is tuple and len(header) == 2 and str(header[0]).lower() == name:
            return True
    return False


def wsgi_headers(headers: Any, flag: Flag) -> int | None:
    """Check a PEP 3333 header list; return the declared Content-Length (-1 if bad) or None."""
    if type(headers) is not list:
        flag("WSGI-007", f"got {type(headers).__name__}")
        if type(headers) is not tuple:
            return None  # iterating a generator here would empty it for the server
    lengths: list[Any] | None = None
    for header in headers:
        if type(header) is not tuple or len(header) != 2:
            flag("WSGI-008", f"got {header!r:.60}")
            continue
        name, value = header
        if type(name) is not str or type(value) is not str:
            flag("WSGI-009", f"({type(name).__name__}, {type(value).__name__}) in {header!r:.60}")
            continue
        if not (name.isascii() and value.isascii()):
            try:
                name.encode("latin-1")
                value.encode("latin-1")
            except UnicodeEncodeError:
                flag("WSGI-010", f"{header!r:.60}")
        lower = name.lower()
        if lower not in _COMMON and _TOKEN.fullmatch(name) is None:
            flag("WSGI-011", f"{name!r:.60}")
        if not value.isprintable() and _CONTROL.search(value) is not None:
            flag("WSGI-012", f"{name}: {value!r:.60}")
        if lower in HOP_BY_HOP:
            flag("WSGI-013", name)
        elif lower == "content-length":
            if lengths is None:
                lengths = []
            lengths.append(value)
    if lengths is None:
        return None
    length = parse_content_length(lengths)
    if length < 0:
        flag("WSGI-021", f"Content-Length: {', '.join(map(str, lengths))!r:.60}")
    return length


def asgi_headers(headers: Any, flag: Flag, *, websocket: bool = False) -> int | None:
    """Check ASGI response headers; return the declared content-length (-1 if bad) or None.

    With ``websocket`` (``websocket.accept`` headers) only the shape is checked, as WS-008.
    """
    type_rule = "WS-008" if websocket else "HTTP-009"
    bytes_rule = "WS-008" if websocket else "HTTP-010"
    if type(headers) is not list and type(headers) is not tuple:
        if isinstance(headers, (str, bytes, dict)) or not hasattr(headers, "__iter__"):
            flag(type_rule, f"got {type(headers).__name__}")
        return None  # another iterable: reading it here could empty it for the server
    lengths: list[Any] | None = None
    for header in headers:
        if not isinstance(header, (tuple, list)) or len(header) != 2:
            flag(type_rule, f"got {header!r:.60}")
            continue
        name, value = header
        if type(name) is not bytes or type(value) is not bytes:
            flag(bytes_rule, f"({type(name).__name__}, {type(value).__name__}) in {header!r:.60}")
            continue
        if websocket:
            continue
        lower = name.lower()
        if lower != name:
            flag("HTTP-011", f"{name!r:.60}")
        if (lower not in _COMMON_BYTES and _TOKEN_BYTES.fullmatch(name) is None) or (
            _CONTROL_BYTES.search(value) is not None
        ):
            flag("HTTP-012", f"{name!r:.40}: {value!r:.40}")
        if lower in _HOP_BY_HOP_BYTES:
            flag("HTTP-013", name.decode("latin-1"))
        elif lower == b"content-length":
            if lengths is None:
                lengths = []
            lengths.append(value)
    if lengths is None:
        return None
    length = parse_content_length(lengths)
    if length < 0:
        flag("HTTP-018", f"content-length: {b', '.join(lengths)!r:.60}")
    return length

"""Redaction of secrets in headers and query strings, on by default everywhere.

Imports nothing of ours. Used by the shims (recordings), summaries and exporters.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote_plus

__all__ = ["REDACTED", "SECRET_HEADERS", "SECRET_QUERY_WORDS", "redact_headers", "redact_query"]

REDACTED = "[redacted]"

SECRET_HEADERS: frozenset[str] = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)
"""Header names (lower case) whose values are never recorded unless redaction is off."""

SECRET_QUERY_WORDS: tuple[str, ...] = ("token", "key", "secret", "password", "signature")
"""A query parameter whose name contains one of these words is redacted."""


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def redact_headers(
    headers: Iterable[tuple[str | bytes, str | bytes]],
    secret: frozenset[str] | set[str] = SECRET_HEADERS,
) -> list[list[str]]:
    """Headers as ``[[name, value], ...]`` text pairs, secret values replaced by ``REDACTED``.

    Pass ``secret=frozenset()`` to keep everything (the user's explicit opt-in).
    """
    out: list[list[str]] = []
    for name, value in headers:
        key = _text(name)
        out.append([key, REDACTED if key.lower() in secret else _text(value)])
    return out


def redact_query(query: str | bytes, words: tuple[str, ...] = SECRET_QUERY_WORDS) -> str:
    """The query string with the values of secret-looking parameters replaced.

    Everything else stays exactly as sent (order, encoding, parameters without ``=``).
    """
    text = _text(query)
    if not text or not words:
        return text
    lowered = text.lower()
    if "%" not in text and not any(word in lowered for word in words):
        return text  # the common case stays a cheap substring test (no encoded names to hide)
    parts = []
    for part in text.split("&"):
        name, sep, _ = part.partition("=")
        key = unquote_plus(name).lower()
        parts.append(f"{name}={REDACTED}" if sep and any(w in key for w in words) else part)
    return "&".join(parts)

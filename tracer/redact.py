"""Redaction of secrets in headers and query strings, on by default everywhere.

Imports only ``tracer.errors``. Used by the shims and the network client (recordings),
summaries and exporters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_plus

from tracer.errors import UsageError

__all__ = [
    "REDACTED",
    "SECRET_HEADERS",
    "SECRET_QUERY_NAMES",
    "SECRET_QUERY_WORDS",
    "redact_headers",
    "redact_query",
    "redact_target",
    "secret_header_names",
]

REDACTED = "[redacted]"

SECRET_HEADERS: frozenset[str] = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)
"""Header names (lower case) whose values are never recorded unless redaction is off."""

SECRET_QUERY_WORDS: tuple[str, ...] = ("token", "key", "secret", "password", "signature")
"""A query parameter whose name contains one of these words is redacted."""

SECRET_QUERY_NAMES: tuple[str, ...] = ("sig",)
"""A query parameter named exactly so (any case) is redacted: too short to match inside other
names (``signal``, ``design``). With ``SECRET_QUERY_WORDS`` this covers the names whose values
OpenTelemetry's ``url.query`` convention redacts by default (``AWSAccessKeyId``, ``Signature``,
``sig``, ``X-Goog-Signature``)."""


def secret_header_names(redact: bool, names: Any) -> frozenset[str]:
    """The lower-case header names whose values a shim redacts: none with ``redact=False``,
    ``names`` when given (it replaces ``SECRET_HEADERS``), else ``SECRET_HEADERS``.

    ``names`` must be a collection of strings: a single string would be read as its letters,
    matching no header, and every secret (Authorization first) would be recorded in clear.
    """
    if not isinstance(redact, bool):
        raise UsageError(f"redact must be True or False, not {redact!r}.")
    if not redact:
        return frozenset()
    if names is None:
        return SECRET_HEADERS
    example = "{'authorization', 'cookie', 'x-internal-token'}"
    if isinstance(names, (str, bytes)):
        raise UsageError(
            f"redact_headers takes a collection of header names, like {example}, not the "
            f"single {type(names).__name__} {names!r}; it replaces the default names, so "
            "list those you still want redacted too."
        )
    try:
        items = list(names)
    except TypeError:
        raise UsageError(
            f"redact_headers takes a collection of header names, like {example}, not {names!r}."
        ) from None
    for item in items:
        if not isinstance(item, str) or not item:
            raise UsageError(f"redact_headers holds {item!r}: each header name must be a string.")
    return frozenset(item.lower() for item in items)


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


_SEPARATORS = re.compile(r"([&;])")


def _may_name_a_secret(lowered: str, words: tuple[str, ...], names: tuple[str, ...]) -> bool:
    """Whether the query could have a secret parameter: a word anywhere, or ``name=`` (the
    exact test is per parameter). Plain loops: this runs for every recorded request."""
    for word in words:
        if word in lowered:
            return True
    for name in names:
        if name + "=" in lowered:
            return True
    return False


def redact_query(
    query: str | bytes,
    words: tuple[str, ...] = SECRET_QUERY_WORDS,
    names: tuple[str, ...] = SECRET_QUERY_NAMES,
) -> str:
    """The query string with the values of secret-looking parameters replaced: those whose
    name contains one of ``words`` or is one of ``names`` (lower case, compared in any case).

    Both ``&`` and ``;`` separate parameters (the HTML 4 form of ``a=1;token=x``, which many
    servers still split on): redacting a value that one server would read as part of the
    previous one costs nothing, leaking it would. Everything else stays exactly as sent
    (order, separators, encoding, parameters without ``=``).
    """
    text = _text(query)
    if not text or not (words or names):
        return text
    if "%" not in text and not _may_name_a_secret(text.lower(), words, names):
        return text  # the common case stays a cheap substring test (no encoded names to hide)
    # The split keeps each separator (odd items), so the query is rebuilt as it was sent.
    parts = _SEPARATORS.split(text)
    for index in range(0, len(parts), 2):
        part = parts[index]
        name, sep, _ = part.partition("=")
        key = unquote_plus(name).lower()
        if sep and (key in names or any(word in key for word in words)):
            parts[index] = f"{name}={REDACTED}"
    return "".join(parts)


def redact_target(target: str) -> str:
    """A request target with its query redacted as ``redact_query`` does:
    ``/p?token=x&a=1`` -> ``/p?token=[redacted]&a=1``; the path before ``?`` stays as sent."""
    base, mark, query = target.partition("?")
    return f"{base}{mark}{redact_query(query)}" if query else target

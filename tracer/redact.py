"""Redaction of secrets in headers, URLs and query strings, on by default everywhere.

Secret headers are named in ``SECRET_HEADERS`` or like a secret (``SECRET_HEADER_WORDS``,
``SecretHeaders``: ``X-Auth-Token``, ``X-CSRF-Token``); a header whose value is a URL
(``URL_HEADERS``: ``Referer``, ``Location``) keeps it with its credentials and secret query
values redacted (``redact_url``); a query parameter is redacted by its name, and one whose value
is itself a URL (``next=/cb?token=x``) has that URL redacted; a path keeps its segments but not
the values of ``;name=value`` parameters named like secrets (``redact_path``).

Imports only ``tracer.errors``. Used by the shims and the network client (recordings),
summaries and exporters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, unquote_plus

from tracer.errors import UsageError

__all__ = [
    "REDACTED",
    "DEFAULT_SECRET_HEADERS",
    "HeaderVerdicts",
    "header_verdicts",
    "SECRET_HEADERS",
    "SECRET_HEADER_WORDS",
    "SECRET_PATH_WORDS",
    "SecretHeaders",
    "URL_HEADERS",
    "redact_header_value",
    "redact_path",
    "redact_url",
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
"""Header names (lower case) whose values are never recorded unless redaction is off; with
``SECRET_HEADER_WORDS``, the default (``DEFAULT_SECRET_HEADERS``)."""

SECRET_HEADER_WORDS: tuple[str, ...] = (
    "token",
    "secret",
    "password",
    "passwd",
    "api-key",
    "apikey",
    "api_key",
    "auth",
    "session",
    "csrf",
    "xsrf",
    "cookie",
    "credential",
    "signature",
)
"""A header whose name contains one of these (any case) is redacted by default, as a query
parameter named like a secret is: ``X-Auth-Token``, ``X-CSRF-Token``, ``Api-Key``,
``X-Session-Id``, ``WWW-Authenticate``. None occurs in the names of ordinary headers
(``Content-Type``, ``User-Agent``, ``Accept*``, ``Host``, ``Content-Length``, ``Referer``,
``Sec-Fetch-*``, ``Sec-WebSocket-Key``: plain "key" would take that one)."""

URL_HEADERS: frozenset[str] = frozenset(
    {"referer", "location", "origin", "content-location", "refresh"}
)
"""Headers whose value is a URL (``Refresh``: ``5; url=...``): kept, with the URL's
credentials and secret query values redacted (``redact_url``)."""

_MEMO_SIZE = 1024
"""Header names whose verdict a ``SecretHeaders`` keeps: far more than one app's clients
send, few enough that a client making up names cannot grow it without bound."""

_MEMO_VALUE = 2048
"""The longest header value whose redaction a ``HeaderVerdicts`` keeps."""

_KEEP, _SECRET, _URL = 0, 1, 2
"""What becomes of a header's value: kept, redacted, kept with its URL redacted."""


class HeaderVerdicts(dict[Any, int]):
    """Header name (text or bytes, any case) -> ``_KEEP``, ``_SECRET`` or ``_URL``, worked
    out on first sight of a name and kept (up to ``_MEMO_SIZE`` names): an app sees the same
    few names on every request, so after the first a header costs one dict lookup. ``urls``
    keeps the redacted values of URL-valued headers the same way: a browser sends the same
    ``Origin`` and ``Referer`` request after request.

    ``_KEEP`` is 0, so a shim's loop reads ``if verdicts[name]:`` and only a header to hide
    takes ``hidden``; made by ``header_verdicts``."""

    __slots__ = ("exact", "words", "urls")

    def __init__(self, exact: frozenset[str], words: tuple[str, ...]) -> None:
        super().__init__()
        self.exact = exact
        self.words = words
        self.urls: dict[tuple[str, str], str] = {}

    def url_value(self, name: str, value: str) -> str:
        """``redact_header_value(name, value)``, kept for the next request that sends it."""
        key = (name, value)
        done = self.urls.get(key)
        if done is None:
            done = redact_header_value(name, value)
            if len(self.urls) < _MEMO_SIZE and len(value) <= _MEMO_VALUE:
                self.urls[key] = done
        return done

    def hidden(self, verdict: int, name: Any, value: Any) -> str:
        """What is recorded for a header whose ``verdict`` (``self[name]``) is not to keep
        it: ``REDACTED`` for a secret; a URL-valued header's value, text or bytes, redacted
        (``url_value``), or ``REDACTED`` when it is neither (no URL can be read to redact)."""
        if verdict == _SECRET:
            return REDACTED
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        elif not isinstance(value, str):
            return REDACTED
        key = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        return self.url_value(key.lower(), value)

    def __missing__(self, name: Any) -> int:
        if isinstance(name, bytes):
            text = name.decode("latin-1").lower()
        elif isinstance(name, str):
            text = name.lower()
        else:
            return _KEEP
        verdict = _KEEP
        if text in self.exact or any(word in text for word in self.words):
            verdict = _SECRET
        elif text in URL_HEADERS:
            verdict = _URL
        if len(self) < _MEMO_SIZE:
            self[name] = verdict
        return verdict


class SecretHeaders(frozenset[str]):
    """The default secret header names: the exact ``SECRET_HEADERS`` (its members) and any
    name containing one of ``SECRET_HEADER_WORDS``, for ``name in secret`` in any case, as
    text or as bytes (an ASGI server's names). Verdicts are kept per name (``HeaderVerdicts``)."""

    __slots__ = ("verdicts",)

    verdicts: HeaderVerdicts

    def __new__(cls, names: Iterable[str] = SECRET_HEADERS) -> SecretHeaders:
        made = super().__new__(cls, names)
        made.verdicts = HeaderVerdicts(frozenset(made), SECRET_HEADER_WORDS)
        return made

    def __contains__(self, name: object) -> bool:
        try:
            return self.verdicts[name] == _SECRET
        except TypeError:  # unhashable: no header name
            return False

    def __reduce__(self) -> tuple[Any, ...]:
        return (SecretHeaders, (frozenset(self),))


DEFAULT_SECRET_HEADERS = SecretHeaders()
"""What a shim redacts unless told otherwise (``secret_header_names``)."""


SECRET_QUERY_WORDS: tuple[str, ...] = ("token", "key", "secret", "password", "signature")
"""A query parameter whose name contains one of these words is redacted."""

SECRET_QUERY_NAMES: tuple[str, ...] = ("sig",)
"""A query parameter named exactly so (any case) is redacted: too short to match inside other
names (``signal``, ``design``). With ``SECRET_QUERY_WORDS`` this covers the names whose values
OpenTelemetry's ``url.query`` convention redacts by default (``AWSAccessKeyId``, ``Signature``,
``sig``, ``X-Goog-Signature``)."""


def secret_header_names(redact: bool, names: Any) -> frozenset[str]:
    """The lower-case header names whose values a shim redacts: none with ``redact=False``,
    exactly ``names`` when given (they replace the default), else ``DEFAULT_SECRET_HEADERS``
    (``SECRET_HEADERS`` and the names containing ``SECRET_HEADER_WORDS``).

    ``names`` must be a collection of strings: a single string would be read as its letters,
    matching no header, and every secret (Authorization first) would be recorded in clear.
    """
    if not isinstance(redact, bool):
        raise UsageError(f"redact must be True or False, not {redact!r}.")
    if not redact:
        return frozenset()
    if names is None:
        return DEFAULT_SECRET_HEADERS
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


def header_verdicts(secret: frozenset[str] | set[str]) -> HeaderVerdicts | None:
    """What a shim looks header names up in for ``secret`` (from ``secret_header_names``):
    the default's memo, shared by every shim (names like a secret's too); for given names a
    memo of their own, matching them exactly in any case; None when nothing is redacted
    (``redact=False``). Either way URL-valued headers keep their value redacted
    (``redact_header_value``), as ``redact_headers`` does."""
    if not secret:
        return None
    if isinstance(secret, SecretHeaders):
        return secret.verdicts
    return HeaderVerdicts(frozenset(name.lower() for name in secret), ())


def redact_header_value(name: str, value: str) -> str:
    """``value`` of a header not secret as a whole: a URL-valued one's (``URL_HEADERS``,
    ``name`` in lower case) with its credentials and secret query values redacted
    (``redact_url``; ``Refresh``'s after its ``url=``); any other as it is."""
    if name not in URL_HEADERS:
        return value
    if name == "refresh":
        delay, sep, url = value.partition("=")
        return f"{delay}{sep}{redact_url(url)}" if sep else value
    return redact_url(value)


def redact_headers(
    headers: Iterable[tuple[str | bytes, str | bytes]],
    secret: frozenset[str] | set[str] = DEFAULT_SECRET_HEADERS,
) -> list[list[str]]:
    """Headers as ``[[name, value], ...]`` text pairs, secret values replaced by ``REDACTED``
    and URL values redacted as ``redact_header_value`` does. ``secret``: the names to redact
    (``secret_header_names``); given names are matched exactly, in any case.

    Pass ``secret=frozenset()`` to keep everything (the user's explicit opt-in).
    """
    if not secret:
        return [[_text(name), _text(value)] for name, value in headers]
    verdicts = (
        secret.verdicts
        if isinstance(secret, SecretHeaders)
        else HeaderVerdicts(frozenset(name.lower() for name in secret), ())
    )
    out: list[list[str]] = []
    add = out.append
    for name, value in headers:
        verdict = verdicts[name]
        key = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        if verdict == _SECRET:
            add([key, REDACTED])
            continue
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        add([key, verdicts.url_value(key.lower(), text) if verdict == _URL else text])
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
    if "%" not in text and "@" not in text and not _may_name_a_secret(text.lower(), words, names):
        return text  # the common case stays a cheap substring test (no encoded names to hide)
    # The split keeps each separator (odd items), so the query is rebuilt as it was sent.
    parts = _SEPARATORS.split(text)
    for index in range(0, len(parts), 2):
        part = parts[index]
        name, sep, value = part.partition("=")
        key = unquote_plus(name).lower()
        if sep and (key in names or any(word in key for word in words)):
            parts[index] = f"{name}={REDACTED}"
        elif sep and ("?" in value or "%" in value or "@" in value):
            parts[index] = f"{name}={_nested(value, words, names)}"
    return "".join(parts)


def _nested(value: str, words: tuple[str, ...], names: tuple[str, ...]) -> str:
    """A parameter's value that may be a URL (``next=/cb?token=x``) with that URL redacted:
    as sent when nothing in it is secret, redacted in place when it was sent unencoded, whole
    when its secret was percent-encoded (re-encoding it would not give back what was sent)."""
    decoded = unquote_plus(value)
    if "?" not in decoded and "@" not in decoded:
        return value
    redacted = redact_url(decoded, words, names)
    if redacted == decoded:
        return value
    return redacted if decoded == value else REDACTED


SECRET_PATH_WORDS: tuple[str, ...] = (*SECRET_QUERY_WORDS, "session")
"""A ``;name=value`` path parameter whose name contains one of these is redacted: the query's
words and "session" (``;jsessionid=``, the session id servlet containers put in paths)."""

_USERINFO = re.compile(r"^((?:[A-Za-z][A-Za-z0-9+.-]*:)?//)[^/?#@]*@")
_PATH_PARAM = re.compile(r";([^;/?#=]*)=([^;/?#]*)")


def redact_path(
    path: str,
    words: tuple[str, ...] = SECRET_PATH_WORDS,
    names: tuple[str, ...] = SECRET_QUERY_NAMES,
) -> str:
    """``path`` with the values of its ``;name=value`` parameters named like secret query
    parameters replaced (``SECRET_PATH_WORDS``): ``/b;password=x/c`` ->
    ``/b;password=[redacted]/c``, ``/a;jsessionid=[redacted]``. A path
    without ``;`` (the usual case) is returned as it is after one substring test."""
    if ";" not in path:
        return path

    def one(found: re.Match[str]) -> str:
        key = unquote(found.group(1)).lower()
        secret = key in names or any(word in key for word in words)
        return f";{found.group(1)}={REDACTED}" if secret else found.group()

    return _PATH_PARAM.sub(one, path)


def redact_url(
    url: str,
    words: tuple[str, ...] = SECRET_QUERY_WORDS,
    names: tuple[str, ...] = SECRET_QUERY_NAMES,
) -> str:
    """``url`` (absolute, or a path with a query) with its secrets redacted: the userinfo
    (``http://user:pw@host/`` -> ``http://[redacted]@host/``), secret path parameters
    (``redact_path``), and secret parameters of its query and of a fragment holding
    parameters (``#access_token=...``, as OAuth's implicit flow sends) (``redact_query``).
    Everything else stays as sent."""
    if "@" in url:
        url = _USERINFO.sub(lambda found: f"{found.group(1)}{REDACTED}@", url, count=1)
    rest, hash_mark, fragment = url.partition("#") if "#" in url else (url, "", "")
    base, mark, query = rest.partition("?")
    if ";" in base:
        base = redact_path(base, (*words, "session"), names)
    if query:
        query = redact_query(query, words, names)
    if "=" in fragment:
        fragment = redact_query(fragment, words, names)
    return f"{base}{mark}{query}{hash_mark}{fragment}"


def redact_target(target: str) -> str:
    """A request target with its secrets redacted as ``redact_url`` does:
    ``/p?token=x&a=1`` -> ``/p?token=[redacted]&a=1``; ``/b;password=x`` ->
    ``/b;password=[redacted]``; the rest stays as sent."""
    if "?" not in target and ";" not in target and "@" not in target and "#" not in target:
        return target
    return redact_url(target)

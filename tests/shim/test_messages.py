"""What the shim reads from ASGI scopes and messages: sizes, statuses, codes, redacted text."""

from __future__ import annotations

import pytest

from tracer.redact import DEFAULT_SECRET_HEADERS, REDACTED, header_verdicts
from tracer.shim.messages import scope_headers, scope_query, summarize_message


@pytest.mark.parametrize(
    "message,expected",
    [
        (
            {"type": "http.request", "body": b"abc", "more_body": True},
            ("http.request", None, 3, True, None),
        ),
        ({"type": "http.request"}, ("http.request", None, 0, False, None)),
        (
            {"type": "http.response.start", "status": 404},
            ("http.response.start", 404, None, None, None),
        ),
        (
            {"type": "http.response.body", "body": b"x"},
            ("http.response.body", None, 1, False, None),
        ),
        ({"type": "websocket.send", "text": "héllo"}, ("websocket.send", None, 6, None, None)),
        (
            {"type": "websocket.receive", "bytes": b"\x00"},
            ("websocket.receive", None, 1, None, None),
        ),
        ({"type": "websocket.close"}, ("websocket.close", None, None, None, 1000)),
        (
            {"type": "websocket.disconnect", "code": 1006},
            ("websocket.disconnect", None, None, None, 1006),
        ),
        ({"type": "http.disconnect"}, ("http.disconnect", None, None, None, None)),
    ],
)
def test_messages_are_summarized_by_type(message: dict, expected: tuple) -> None:
    """Each message type gives its size, status or close code; bodies are only measured."""
    assert summarize_message(message) == expected


@pytest.mark.parametrize(
    "message", [None, 42, "http.request", {"type": "websocket.send", "text": 5}]
)
def test_a_malformed_message_is_recorded_without_failing(message: object) -> None:
    """A message the app got wrong never raises here: the checker judges it, not the shim."""
    assert len(summarize_message(message)) == 5


def test_headers_are_text_pairs_with_secrets_redacted() -> None:
    """Bytes pairs (the ASGI way) and text pairs alike become one flat tuple of text (as a
    packed row carries them); secret names' values are redacted."""
    names = frozenset({"authorization"})
    secret = header_verdicts(names)
    raw = [(b"host", b"a"), (b"Authorization", b"Bearer x")]
    assert scope_headers(raw, secret, names) == ("host", "a", "Authorization", REDACTED)
    text = [("host", "a"), ("authorization", "Bearer x")]
    assert scope_headers(text, secret, names) == ("host", "a", "authorization", REDACTED)
    assert scope_headers(None, secret, names) == ()
    assert scope_headers(raw, None, frozenset()) == ("host", "a", "Authorization", "Bearer x")


def test_default_names_match_words_and_urls_in_any_case() -> None:
    """With the default names, bytes names as a server gave them (any case) are matched by
    their words, and URL values keep their URL without its secrets, request after request."""
    names = DEFAULT_SECRET_HEADERS
    raw = [
        (b"X-Auth-Token", b"t"),
        (b"referer", b"http://h/p?token=t&a=1"),
        (b"Refresh", b"0; url=/x?sig=t"),
        (b"accept", b"*/*"),
    ]
    expected = (
        "X-Auth-Token",
        REDACTED,
        "referer",
        f"http://h/p?token={REDACTED}&a=1",
        "Refresh",
        f"0; url=/x?sig={REDACTED}",
        "accept",
        "*/*",
    )
    for _ in range(2):  # the second from the memo
        assert scope_headers(raw, header_verdicts(names), names) == expected


def test_query_strings_are_redacted_unless_asked_not_to() -> None:
    """Token-like query values are redacted; with redaction off the query is kept as sent."""
    assert scope_query(b"api_key=k&x=1", True) == f"api_key={REDACTED}&x=1"
    assert scope_query(b"api_key=k&x=1", False) == "api_key=k&x=1"
    assert scope_query("a=1", False) == "a=1"

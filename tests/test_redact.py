"""Redaction: secret header and query values never reach a recording; nothing else changes."""

from __future__ import annotations

from tracer.redact import REDACTED, SECRET_HEADERS, redact_headers, redact_query


def test_default_secret_headers_redacted_any_case() -> None:
    """Authorization, Proxy-Authorization, Cookie, Set-Cookie and X-Api-Key lose their values,
    whatever their case; other headers keep theirs, in order."""
    headers = [
        ("Host", "example.org"),
        ("Authorization", "Bearer a"),
        ("PROXY-AUTHORIZATION", "Basic b"),
        ("cookie", "c=1"),
        ("Set-Cookie", "d=2"),
        ("x-api-key", "e"),
        ("Accept", "*/*"),
    ]
    assert redact_headers(headers) == [
        ["Host", "example.org"],
        ["Authorization", REDACTED],
        ["PROXY-AUTHORIZATION", REDACTED],
        ["cookie", REDACTED],
        ["Set-Cookie", REDACTED],
        ["x-api-key", REDACTED],
        ["Accept", "*/*"],
    ]
    assert SECRET_HEADERS == {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
    }


def test_asgi_byte_headers_become_text() -> None:
    """ASGI's (bytes, bytes) pairs come out as text pairs, latin-1 decoded, secrets hidden."""
    assert redact_headers([(b"cookie", b"s=1"), (b"x-name", "caf\u00e9".encode("latin-1"))]) == [
        ["cookie", REDACTED],
        ["x-name", "caf\u00e9"],
    ]


def test_custom_set_and_opt_out() -> None:
    """A custom set replaces the default; an empty set keeps every value (the opt-in)."""
    headers = [("Authorization", "Bearer a"), ("X-Internal", "i")]
    assert redact_headers(headers, secret=frozenset({"x-internal"})) == [
        ["Authorization", "Bearer a"],
        ["X-Internal", REDACTED],
    ]
    assert redact_headers(headers, secret=frozenset()) == [
        ["Authorization", "Bearer a"],
        ["X-Internal", "i"],
    ]


def test_query_secret_parameters_redacted() -> None:
    """Parameters named like token/key/secret/password/signature lose their values."""
    query = "page=2&access_token=abc&API_KEY=k&client_secret=s&password=p&X-Amz-Signature=z"
    assert redact_query(query) == (
        f"page=2&access_token={REDACTED}&API_KEY={REDACTED}&client_secret={REDACTED}"
        f"&password={REDACTED}&X-Amz-Signature={REDACTED}"
    )
    assert redact_query(b"token=abc") == f"token={REDACTED}"


def test_query_everything_else_exactly_as_sent() -> None:
    """Order, percent-encoding, '+' and value-less parameters are untouched; a secret word in a
    value (not a name) hides nothing."""
    assert redact_query("q=a%20b+c&flag&token=t&x=%2F") == f"q=a%20b+c&flag&token={REDACTED}&x=%2F"
    assert redact_query("q=my+token+here&n=1") == "q=my+token+here&n=1"
    assert redact_query("") == ""
    assert redact_query("plain=1&other=2") == "plain=1&other=2"


def test_query_percent_encoded_names_still_redacted() -> None:
    """A secret name spelled with percent-escapes is recognised after decoding."""
    assert redact_query("%74oken=abc&a=1") == f"%74oken={REDACTED}&a=1"
    assert redact_query("api%5Fkey=abc") == f"api%5Fkey={REDACTED}"


def test_query_opentelemetry_default_names_redacted_sig_only_as_a_whole_name() -> None:
    """The url.query convention's default keys (AWSAccessKeyId, Signature, sig,
    X-Goog-Signature) lose their values; ``sig`` only as the whole name, in any case or
    percent-encoded: ``signal``, ``design`` and ``xsig`` keep theirs."""
    query = (
        "AWSAccessKeyId=A&Signature=S&sig=s1&X-Goog-Signature=G"
        "&signal=3&design=x&xsig=2&SIG=s2&%73ig=s3&sig"
    )
    assert redact_query(query) == (
        f"AWSAccessKeyId={REDACTED}&Signature={REDACTED}&sig={REDACTED}"
        f"&X-Goog-Signature={REDACTED}&signal=3&design=x&xsig=2&SIG={REDACTED}"
        f"&%73ig={REDACTED}&sig"
    )
    assert redact_query("signal=3&design=x") == "signal=3&design=x"


def test_query_custom_words_and_opt_out() -> None:
    """The words and whole names are parameters; with neither, nothing is redacted."""
    assert redact_query("session=s&token=t", words=("session",)) == f"session={REDACTED}&token=t"
    assert redact_query("token=t", words=()) == "token=t"
    assert redact_query("sid=1&sig=2", words=(), names=("sid",)) == f"sid={REDACTED}&sig=2"
    assert redact_query("sig=s&token=t", words=(), names=()) == "sig=s&token=t"

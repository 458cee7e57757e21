"""Redaction of secrets the exact lists missed: header names like a secret's, URLs in header
values and in query values, ``;name=value`` path parameters."""

from __future__ import annotations

import pickle
from typing import Any

import tracer
from tracer import events as K
from tracer.recorder import Recorder
from tracer.redact import (
    DEFAULT_SECRET_HEADERS,
    REDACTED,
    SECRET_HEADERS,
    header_verdicts,
    redact_headers,
    redact_path,
    redact_query,
    redact_target,
    redact_url,
    secret_header_names,
)

BROWSER = [
    ("Host", "example.com"),
    ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"),
    ("Accept", "text/html,application/xhtml+xml"),
    ("Accept-Language", "en-US,en;q=0.5"),
    ("Accept-Encoding", "gzip, deflate, br"),
    ("Content-Type", "application/json"),
    ("Content-Length", "12"),
    ("Connection", "keep-alive"),
    ("Cache-Control", "max-age=0"),
    ("Sec-Fetch-Mode", "navigate"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ("If-None-Match", 'W/"5e"'),
    ("X-Forwarded-For", "10.0.0.1"),
    ("X-Request-Id", "r-1"),
    ("Origin", "https://example.com"),
    ("Referer", "https://example.com/items?page=2"),
]
"""Ordinary headers: none loses its value."""


def test_headers_named_like_secrets_are_redacted_ordinary_ones_kept() -> None:
    """``X-Auth-Token``, ``X-CSRF-Token``, ``Api-Key`` and their kin lose their values in any
    case, as text or bytes; ordinary request headers keep theirs."""
    secrets = [
        ("X-Auth-Token", "t1"),
        ("X-CSRF-Token", "t2"),
        ("Api-Key", "k"),
        ("X-Session-Id", "s"),
        ("X-XSRF-TOKEN", "x"),
        ("X-Amz-Security-Token", "a"),
        ("Authorization", "Bearer b"),
    ]
    assert redact_headers(BROWSER + secrets) == [[n, v] for n, v in BROWSER] + [
        [n, REDACTED] for n, _ in secrets
    ]
    assert redact_headers([(b"x-auth-token", b"t"), (b"accept", b"*/*")]) == [
        ["x-auth-token", REDACTED],
        ["accept", "*/*"],
    ]
    default = secret_header_names(True, None)
    assert "X-Auth-Token".lower() in default and b"x-csrf-token" in default
    assert "content-type" not in default and b"user-agent" not in default
    # Still the documented exact names, and still one value across processes.
    assert default == SECRET_HEADERS
    assert "x-auth-token" in pickle.loads(pickle.dumps(DEFAULT_SECRET_HEADERS))


def test_given_names_still_replace_the_default() -> None:
    """``redact_headers={...}`` names exactly the headers redacted: no words added."""
    given = secret_header_names(True, {"X-Internal"})
    assert given == {"x-internal"} and "x-auth-token" not in given
    # An ASGI server's bytes names are looked up as they come, in any case.
    verdicts = header_verdicts(given)
    assert verdicts is not None and verdicts[b"X-Internal"] and not verdicts[b"x-auth-token"]
    assert redact_headers([("X-Auth-Token", "t"), ("X-Internal", "i")], secret=given) == [
        ["X-Auth-Token", "t"],
        ["X-Internal", REDACTED],
    ]
    assert secret_header_names(False, None) == frozenset()


def test_url_header_values_lose_credentials_and_secret_parameters() -> None:
    """Referer, Location, Origin, Content-Location and Refresh keep their URL, without its
    userinfo and secret query (or fragment) values."""
    headers = [
        ("Referer", "http://u:pw@h/p?token=T&a=1"),
        ("Location", "https://h/cb?access_token=T#id_token=T&state=s"),
        ("Origin", "http://u:pw@h"),
        ("Content-Location", "/doc;password=T"),
        ("Refresh", "5; url=http://h/?api_key=T"),
        ("X-Other", "http://u:pw@h/?token=T"),
    ]
    assert redact_headers(headers) == [
        ["Referer", f"http://{REDACTED}@h/p?token={REDACTED}&a=1"],
        ["Location", f"https://h/cb?access_token={REDACTED}#id_token={REDACTED}&state=s"],
        ["Origin", f"http://{REDACTED}@h"],
        ["Content-Location", f"/doc;password={REDACTED}"],
        ["Refresh", f"5; url=http://h/?api_key={REDACTED}"],
        ["X-Other", "http://u:pw@h/?token=T"],
    ]
    # Twice: the second answer comes from what was kept of the first.
    assert redact_headers(headers[:1]) == redact_headers(headers[:1])


def test_a_url_inside_a_query_value_is_redacted() -> None:
    """``next=/cb?token=T`` keeps its URL without the token; sent percent-encoded, the value
    goes whole (re-encoding it would not give back what was sent); a URL without secrets
    stays exactly as sent."""
    assert redact_query("next=/cb?token=T&x=1") == f"next=/cb?token={REDACTED}&x=1"
    assert redact_query("next=%2Fcb%3Ftoken%3DT&x=1") == f"next={REDACTED}&x=1"
    assert redact_query("next=http://u:pw@h/") == f"next=http://{REDACTED}@h/"
    assert redact_query("next=%2Fcb%3Fpage%3D2&x=1") == "next=%2Fcb%3Fpage%3D2&x=1"
    assert redact_target("/login?next=/cb?token=T") == f"/login?next=/cb?token={REDACTED}"


def test_secret_path_parameters_are_redacted() -> None:
    """``;name=value`` path parameters named like secrets lose their values (and the session
    id servlet containers put in paths); other segments and parameters stay as sent."""
    assert redact_path("/b;password=T/c;v=1") == f"/b;password={REDACTED}/c;v=1"
    assert redact_path("/a;jsessionid=T") == f"/a;jsessionid={REDACTED}"
    assert redact_path("/plain/path") == "/plain/path"
    assert redact_target("/b;password=T?a=1") == f"/b;password={REDACTED}?a=1"
    assert redact_url("http://h/b;api_key=T") == f"http://h/b;api_key={REDACTED}"


def test_wsgi_recording_redacts_headers_named_like_secrets() -> None:
    """A WSGI app's ``request.start`` headers keep no ``X-Auth-Token``, ``X-CSRF-Token`` or
    ``Api-Key`` value; its ``wsgi.start_response`` headers no ``X-Session-Token``."""
    recorder = Recorder()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Session-Token", "S4")])
        return [b""]

    shim = tracer.instrument(app, recorder=recorder)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/env",
        "QUERY_STRING": "",
        "SERVER_NAME": "x",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "HTTP_X_AUTH_TOKEN": "S1",
        "HTTP_X_CSRF_TOKEN": "S2",
        "HTTP_API_KEY": "S3",
        "HTTP_USER_AGENT": "curl/8",
    }
    body = shim(environ, lambda status, headers, exc_info=None: None)
    list(body)
    body.close()
    (start,) = [e for e in recorder.events if e.kind == K.REQUEST_START]
    headers = {name: value for name, value in start.data["headers"]}
    assert headers == {
        "x-auth-token": REDACTED,
        "x-csrf-token": REDACTED,
        "api-key": REDACTED,
        "user-agent": "curl/8",
    }
    for secret in ("S1", "S2", "S3", "S4"):
        assert secret not in repr(recorder.events)

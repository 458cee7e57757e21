"""Header-list checks shared by the checkers: what they return and what they flag."""

from __future__ import annotations

from typing import Any

import pytest

from tracer.conformance.schema import asgi_headers, wsgi_headers


def _flags() -> tuple[list[str], Any]:
    found: list[str] = []
    return found, lambda rule_id, detail="", **kw: found.append(rule_id)


@pytest.mark.parametrize(
    "values,length,flagged",
    [
        (["13"], 13, False),
        (["13", "13"], 13, False),
        (["13", "14"], -1, True),
        ([" 13"], -1, True),
        (["-1"], -1, True),
        (["１３"], -1, True),  # full-width digits: isdigit() but not ASCII
    ],
)
def test_content_length_values(values: list[str], length: int, flagged: bool) -> None:
    """One strict decimal value (repeats must agree), in either interface."""
    found, flag = _flags()
    headers = [("Content-Length", v) for v in values] + [("Content-Type", "text/plain")]
    assert wsgi_headers(headers, flag) == (length, True)
    assert ("WSGI-021" in found) is flagged  # full-width digits are also not latin-1
    found, flag = _flags()
    if all(v.isascii() for v in values):
        raw = [(b"content-length", v.encode()) for v in values]
        assert asgi_headers(raw, flag) == length
        assert found == (["HTTP-018"] if flagged else [])


def test_no_content_length_and_no_type() -> None:
    """Absent Content-Length is None; a missing Content-Type is reported to the caller."""
    found, flag = _flags()
    assert wsgi_headers([("X-Thing", "1")], flag) == (None, False)
    assert wsgi_headers([("content-type", "text/html")], flag) == (None, True)
    assert asgi_headers([], flag) is None
    assert found == []


def test_uncommon_names_get_the_full_check() -> None:
    """Names outside the common set are checked for token characters, case and hop-by-hop."""
    found, flag = _flags()
    asgi_headers([(b"X-Custom", b"1"), (b"x(bad)", b"1"), (b"keep-alive", b"5")], flag)
    assert found == ["HTTP-011", "HTTP-012", "HTTP-013"]
    found, flag = _flags()
    wsgi_headers([("X(bad)", "1"), ("Keep-Alive", "5"), ("Content-Type", "a\nb")], flag)
    assert found == ["WSGI-011", "WSGI-013", "WSGI-012"]


def test_websocket_accept_headers_are_checked_for_shape_only() -> None:
    """websocket.accept headers: bytes pairs (WS-008); names and values are the server's concern."""
    found, flag = _flags()
    asgi_headers([(b"Sec-Custom", b"x")], flag, websocket=True)
    asgi_headers([("x", "y")], flag, websocket=True)
    assert found == ["WS-008"]


def test_asgi_headers_judge_a_list_the_same_every_time() -> None:
    """Headers that broke no rule are remembered (one lookup on the next response): the same
    list, sent again, is judged as the first time; the status still decides an Upgrade, and a
    clean header of one response does not hide a broken one of the same name."""
    headers = [
        (b"content-type", b"text/plain"),
        (b"x-request-id", b"abc"),
        (b"content-length", b"3"),
        (b"x-custom", b"a\r\nb"),
        (b"X-Upper", b"1"),
        (b"upgrade", b"h2c"),
        [b"x-list", b"1"],
    ]
    seen = []
    for status in (200, 200, 426, 200):
        found, flag = _flags()
        seen.append((asgi_headers(headers, flag, status=status), found))
    flagged = ["HTTP-012", "HTTP-011", "HTTP-013"]
    assert seen == [(3, flagged), (3, flagged), (3, flagged[:2]), (3, flagged)]
    found, flag = _flags()
    asgi_headers([(b"x-request-id", b"a\nb"), (b"content-length", b"4")], flag)
    assert found == ["HTTP-012"]
    found, flag = _flags()
    asgi_headers([(b"x-request-id", b"abc")], flag, websocket=True)
    asgi_headers([(b"content-length", b"3"), (b"content-length", b"4")], flag, websocket=True)
    assert found == []

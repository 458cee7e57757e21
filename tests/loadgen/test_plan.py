"""The request plan: paths round robin, headers, bodies, websockets."""

from __future__ import annotations

import pytest

from tracer.errors import UsageError
from tracer.loadgen import build_plan, parse_header


def test_paths_round_robin_with_queries() -> None:
    """Requests cycle through --path values; the query is split off the path."""
    plan = build_plan(paths=["/a", "/b?x=1"])
    assert [(plan[i].path, plan[i].query) for i in range(4)] == [
        ("/a", ""),
        ("/b", "x=1"),
        ("/a", ""),
        ("/b", "x=1"),
    ]


def test_headers_and_body() -> None:
    """-H adds headers after host/user-agent; a body gets content-type and content-length."""
    plan = build_plan(method="post", headers=["X-A: 1", "Content-Type: text/plain"], body=b"abc")
    request = plan[0]
    assert request.method == "POST" and request.body == b"abc"
    names = [name.lower() for name, _ in request.headers]
    assert names == ["host", "user-agent", "x-a", "content-type", "content-length"]
    assert dict(request.headers)["content-length"] == "3"


def test_websocket_paths() -> None:
    """ws:/p opens a websocket; --ws-messages alone turns every path into one."""
    mixed = build_plan(paths=["/", "ws:/ws"], ws_messages=4)
    assert [(r.websocket, r.ws_messages) for r in mixed.requests] == [(False, 0), (True, 4)]
    assert all(r.websocket for r in build_plan(paths=["/ws"], ws_messages=2).requests)


def test_bad_header_and_path() -> None:
    """A header without a colon, or a path without a leading slash, is a UsageError."""
    with pytest.raises(UsageError, match="Name: value"):
        parse_header("nocolon")
    with pytest.raises(UsageError, match="must start"):
        build_plan(paths=["relative"])


@pytest.mark.parametrize(
    "header,why",
    [
        ("X-A: b\r\nX-B: c", "line break"),
        ("X-A: b\nX-B: c", "line break"),
        ("X-A: a\x00b", "control character"),
        ("X(A): 1", "Name: value"),
    ],
)
def test_a_header_that_would_break_its_line_is_refused(header: str, why: str) -> None:
    """A CR/LF in a value smuggled a header of its own past the request (uvicorn saw
    ``x-b: c``); a name that is not a token is refused too."""
    with pytest.raises(UsageError, match=why):
        build_plan(headers=[header])


def test_paths_go_on_the_request_line_as_they_can() -> None:
    """Non-ASCII is percent-encoded in UTF-8 (uvicorn answered 400 to a raw byte); a space or
    a line break in a path is refused (it split the request line)."""
    request = build_plan(paths=["/caf\u00e9?q=\u00e9t\u00e9"])[0]
    assert (request.path, request.query) == ("/caf%C3%A9", "q=%C3%A9t%C3%A9")
    for bad in ("/a b", "/a\r\nX: y", "ws:/a\tb"):
        with pytest.raises(UsageError, match="percent-encode"):
            build_plan(paths=[bad])


@pytest.mark.parametrize("method", ["", "GE T", "GET /x HTTP/1.1\r\n"])
def test_a_method_that_is_not_one_word_is_refused(method: str) -> None:
    """-m 'GE T' went out as a broken request line (uvicorn answered 400, counted no error)."""
    with pytest.raises(UsageError, match="a method is a single word"):
        build_plan(method=method)


def test_a_non_utf8_path_goes_out_as_the_bytes_typed() -> None:
    """A byte that is not UTF-8 on the command line (a lone surrogate in argv) is sent as its
    own %XX, not a UnicodeEncodeError traceback."""
    plan = build_plan(paths=["/a\udcff/é"])
    assert plan[0].path == "/a%FF/%C3%A9"


def test_a_method_or_body_no_websocket_session_would_send_is_refused() -> None:
    """Every path a WebSocket session (an upgrade: a GET without a body): -m POST or -d would
    be dropped silently while the header said otherwise. Refused in one line; with HTTP paths
    beside the sessions, they go to those."""
    with pytest.raises(UsageError, match="-m POST and a body would not be sent"):
        build_plan(method="POST", paths=["/ws"], body=b"x", ws_messages=2)
    with pytest.raises(UsageError, match="a body would not be sent"):
        build_plan(paths=["ws:/ws"], body=b"x")
    mixed = build_plan(method="post", paths=["/", "ws:/ws"], body=b"x")
    assert [(r.method, r.body) for r in mixed.requests] == [("POST", b"x"), ("GET", b"")]

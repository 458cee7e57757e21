"""The request plan: paths round robin, headers, bodies, websockets, durations."""

from __future__ import annotations

import pytest

from tracer.errors import UsageError
from tracer.loadgen import build_plan, parse_duration, parse_header


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


@pytest.mark.parametrize(
    "text,seconds", [("10s", 10.0), ("500ms", 0.5), ("2m", 120.0), ("1.5", 1.5), ("1h", 3600.0)]
)
def test_durations(text: str, seconds: float) -> None:
    """-z and --timeout accept s, ms, m, h and bare seconds."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "ten", "5 days", "-1s"])
def test_bad_durations(bad: str) -> None:
    """Anything else is a UsageError that shows the expected form."""
    with pytest.raises(UsageError, match="10s"):
        parse_duration(bad)


def test_bad_header_and_path() -> None:
    """A header without a colon, or a path without a leading slash, is a UsageError."""
    with pytest.raises(UsageError, match="Name: value"):
        parse_header("nocolon")
    with pytest.raises(UsageError, match="must start"):
        build_plan(paths=["relative"])

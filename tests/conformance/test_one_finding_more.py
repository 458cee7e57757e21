"""One mistake is one finding, for a status below 100 and a denial body before its start."""

from __future__ import annotations

from typing import Any

import pytest

from tracer.conformance.driver import check_app

pytestmark = pytest.mark.timeout(60)

TEXT = [(b"content-type", b"text/plain")]


def _found(app: Any) -> dict[str, list[str]]:
    """Rule -> the probes it was found on."""
    report = check_app(app, paths=["/"], timeout=2.0)
    assert not report.crashes
    found: dict[str, list[str]] = {}
    for finding in report.findings:
        found.setdefault(finding.rule, []).append(finding.request)
    return found


@pytest.mark.parametrize("status", [1, 99])
def test_a_status_below_100_is_http_007_alone(status: int) -> None:
    """Status 1 or 99 with a body: HTTP-007, not HTTP-025 (it is no 1xx status)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": status, "headers": TEXT})
        await send({"type": "http.response.body", "body": b"hi"})

    assert _found(app) == {"HTTP-007": ["GET /", "HEAD /", "POST /", "POST / (chunked)"]}


def test_a_1xx_status_with_a_body_is_still_http_025() -> None:
    """100 with a body: HTTP-008 (1xx as the final status) and HTTP-025 (a body it forbids)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 100, "headers": TEXT})
        await send({"type": "http.response.body", "body": b"hi"})

    found = _found(app)
    assert sorted(found) == ["HTTP-008", "HTTP-025"]


async def _http(send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": TEXT})
    await send({"type": "http.response.body", "body": b"hi"})


async def denial_body_first(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await _http(send)
    elif scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.http.response.body", "body": b"no"})
        await send({"type": "websocket.http.response.start", "status": 403, "headers": TEXT})
        await send({"type": "websocket.http.response.body", "body": b"no"})


async def denial_body_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await _http(send)
    elif scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.http.response.body", "body": b"no"})


async def denial_body_then_accept(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await _http(send)
    elif scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.http.response.body", "body": b"no"})
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1000})


@pytest.mark.parametrize(
    "app",
    [denial_body_first, denial_body_only, denial_body_then_accept],
    ids=lambda app: app.__name__,
)
def test_a_denial_body_before_its_start_is_ws_014_alone(app: Any) -> None:
    """The early body starts no denial: the start after it is the denial's start (no WS-012
    "after accept"), an accept after it answers the handshake (no WS-003), and returning
    after it alone is not also "never answered the handshake" (WS-013)."""
    assert _found(app) == {"WS-014": ["websocket /"]}


async def denial_after_accept(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await _http(send)
    elif scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.http.response.start", "status": 403, "headers": TEXT})
        await send({"type": "websocket.http.response.body", "body": b"no"})


def test_a_denial_after_accept_is_still_ws_012() -> None:
    """A denial start once the connection is open: WS-012."""
    assert _found(denial_after_accept) == {"WS-012": ["websocket /"]}

"""One mistake is one finding: a rule that only follows from another is not reported with it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tracer.conformance.driver import check_app

pytestmark = pytest.mark.timeout(60)

TEXT = [("Content-Type", "text/plain")]


def _rules(app: Any) -> dict[str, list[str]]:
    """Request -> the rules found on it, in order (GET only: each probe behaves alike)."""
    report = check_app(app, paths=["/"])
    found: dict[str, list[str]] = {}
    for finding in report.findings:
        found.setdefault(finding.request, []).append(finding.rule)
    return found


def never_starts(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    yield b"hello"  # no start_response, ever


def starts_late(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    yield b"hello"
    start_response("200 OK", TEXT)


def type_as_bytes(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", b"text/plain")])
    return [b"hello"]


def type_as_list(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [["Content-Type", "text/plain"]])
    return [b"hello"]


def type_as_one_string(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", ["Content-Type: text/plain"])
    return [b"hello"]


def str_body_with_length(environ: dict[str, Any], start_response: Any) -> list[str]:
    start_response("200 OK", [*TEXT, ("Content-Length", "5")])
    return ["hello"]


def bytes_returned_with_length(environ: dict[str, Any], start_response: Any) -> bytes:
    start_response("200 OK", [*TEXT, ("Content-Length", "5")])
    return b"hello"


async def asgi_str_body_with_length(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"5")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": "hello"})


@pytest.mark.parametrize(
    ("app", "rule"),
    [
        (never_starts, "WSGI-001"),
        (starts_late, "WSGI-003"),
        (type_as_bytes, "WSGI-009"),
        (type_as_list, "WSGI-008"),
        (type_as_one_string, "WSGI-008"),
        (str_body_with_length, "WSGI-014"),
        (bytes_returned_with_length, "WSGI-015"),
        (asgi_str_body_with_length, "HTTP-014"),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_one_mistake_is_one_finding(app: Any, rule: str) -> None:
    """Each app makes one mistake: its GET gets that rule and no consequence of it (WSGI-001
    and WSGI-003 for one missing start_response, WSGI-016 for a mistyped Content-Type, a
    Content-Length mismatch for a body whose size is unknown)."""
    assert _rules(app)["GET /"] == [rule]


def test_a_body_without_any_start_response_is_wsgi_001_at_its_yield() -> None:
    """The one finding keeps what WSGI-003 said: the yield of the body, and that there was one."""
    report = check_app(never_starts, paths=["/"])
    (finding,) = [f for f in report.findings if f.request == "GET /"]
    assert finding.message == (
        "start_response was never called: the iterable produced a body without it"
    )
    line = never_starts.__code__.co_firstlineno + 1
    assert finding.location is not None and finding.location.endswith(f":{line}")


def test_a_start_response_that_comes_late_is_wsgi_003_at_the_yield() -> None:
    """WSGI-003 (judged when the late start_response comes) names the yield before it."""
    report = check_app(starts_late, paths=["/"])
    (finding,) = [f for f in report.findings if f.request == "GET /"]
    line = starts_late.__code__.co_firstlineno + 1
    assert finding.location is not None and finding.location.endswith(f":{line}")

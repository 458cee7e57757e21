"""The GET probes read trailers (``TE: trailers``, ``http.response.trailers`` advertised):
an app that checks the scope before announcing trailers has its trailers judged there, each
trailer rule alone, and one that announces them regardless is told so on the other probes."""

from __future__ import annotations

from typing import Any

import pytest

from tracer.conformance.driver import check_app
from tracer.conformance.probes import make_scope, plan

pytestmark = pytest.mark.timeout(60)

START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain")],
}
LAST = {"type": "http.response.body", "body": b"hi"}
MORE = {"type": "http.response.body", "body": b"hi", "more_body": True}
TRAILERS = {"type": "http.response.trailers", "headers": [(b"x-checksum", b"1")]}


def _app(*with_trailers: dict[str, Any], checks_scope: bool = True) -> Any:
    """An http app that sends ``with_trailers`` (after a start announcing trailers) when the
    server says it can send trailers (always, without ``checks_scope``), else a plain body."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if checks_scope and "http.response.trailers" not in scope["extensions"]:
            await send(START)
            await send(LAST)
            return
        await send({**START, "trailers": True})
        for message in with_trailers:
            await send(message)

    return app


def _found(app: Any) -> dict[str, list[str]]:
    report = check_app(app, paths=["/"], timeout=2.0)
    assert not report.crashes
    found: dict[str, list[str]] = {}
    for finding in report.findings:
        found.setdefault(finding.rule, []).append(finding.request)
    return found


def test_the_get_probe_advertises_trailers_to_a_client_that_reads_them() -> None:
    """GET: ``te: trailers`` and the extension; HEAD and POST: neither."""
    get, head, post, chunked = (make_scope(probe) for probe in plan(["/"], websocket=False))
    assert (b"te", b"trailers") in get["headers"]
    assert get["extensions"] == {"http.response.trailers": {}}
    for scope in (head, post, chunked):
        assert scope["extensions"] == {}
        assert all(name != b"te" for name, _ in scope["headers"])


def test_trailers_sent_before_the_body_ended_are_http_022_alone() -> None:
    """An app that checks the scope: HTTP-022 on the GET, and no HTTP-024 anywhere."""
    assert _found(_app(MORE, TRAILERS)) == {"HTTP-022": ["GET /"]}


def test_trailers_never_sent_are_http_023_alone() -> None:
    """An app that checks the scope and never sends its announced trailers: HTTP-023 alone."""
    assert _found(_app(LAST)) == {"HTTP-023": ["GET /"]}


def test_trailers_sent_right_are_clean() -> None:
    """Body, then trailers, where the server advertised them: nothing to report."""
    assert _found(_app(MORE, LAST, TRAILERS)) == {}


def test_trailers_announced_regardless_are_http_024_where_not_advertised() -> None:
    """An app that never looks at the scope: HTTP-024 on the probes that did not advertise
    trailers, and its GET, where they were, is clean."""
    found = _found(_app(LAST, TRAILERS, checks_scope=False))
    assert found == {"HTTP-024": ["HEAD /", "POST /", "POST / (chunked)"]}

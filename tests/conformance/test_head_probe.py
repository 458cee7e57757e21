"""The HEAD probe: mistakes only a HEAD shows, and CHK-002 for a HEAD that fails where GET works."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from flask import Flask, request

from tracer.conformance.driver import check_app

pytestmark = pytest.mark.timeout(60)


def _flask_forgets_head() -> Flask:
    app = Flask(__name__)

    @app.route("/", methods=["GET", "POST"])
    def index() -> Any:
        if request.method == "GET":
            return "hello"
        if request.method == "POST":
            return "posted"
        return None  # HEAD: Flask turns the missing response into a 500 of its own

    return app


def test_a_head_that_gets_a_500_where_get_works_is_chk_002() -> None:
    """Flask answers the view's missing HEAD response with a 500 and raises nothing the shim
    sees: CHK-002 says it, on HEAD / alone."""
    report = check_app(_flask_forgets_head(), paths=["/"])
    assert "HEAD /" in report.requests
    assert [(f.rule, f.request, f.severity) for f in report.findings] == [
        ("CHK-002", "HEAD /", "warning")
    ]
    assert report.findings[0].message.endswith(": HEAD 500, GET 200")


async def _asgi_head_without_body(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"5")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    if scope["method"] == "HEAD":
        return  # forgets the (empty) body message that ends the response
    await send({"type": "http.response.body", "body": b"hello"})


def test_a_raw_asgi_app_that_leaves_head_unfinished_is_http_005() -> None:
    report = check_app(_asgi_head_without_body, paths=["/"])
    assert [(f.rule, f.request) for f in report.findings] == [("HTTP-005", "HEAD /")]


def test_a_head_that_raises_is_a_crash_not_also_chk_002() -> None:
    """A WSGI app that has no answer for HEAD raises: the crash says it, CHK-002 does not."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["REQUEST_METHOD"] in ("GET", "POST"):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"hello"]
        return None

    report = check_app(app, paths=["/"])
    assert report.findings == []
    assert [c["request"] for c in report.crashes] == ["HEAD /"]


def test_a_head_refused_with_405_is_no_finding() -> None:
    """FastAPI answers HEAD on a GET route with 405: a refusal, not a failure."""
    api = FastAPI()

    @api.get("/")
    def index() -> dict[str, bool]:
        return {"ok": True}

    report = check_app(api, paths=["/"])
    assert "HEAD /" in report.requests and report.findings == [] and report.crashes == []

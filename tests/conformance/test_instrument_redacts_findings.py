"""``tracer.instrument(app, redact_headers=...)``: the ``violation`` events the shim records
quote a header's value as the shim records the header itself, in WSGI and ASGI alike."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import tracer
from tracer.shim.asgi import AsgiShim
from tracer.shim.wsgi import WsgiShim

SECRET = "cust-4711"


def _wsgi_app(name: str, value: str) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        # A bytes value breaks WSGI-009, so the finding quotes it.
        start_response("200 OK", [("Content-Type", "text/plain"), (name, value.encode())])
        return [b"ok"]

    return app


def _asgi_app(name: str, value: str) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        # A str value breaks HTTP-010, so the finding quotes it.
        headers = [(b"content-type", b"text/plain"), (name.lower().encode(), value)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def _wsgi_messages(name: str, value: str, **options: Any) -> list[str]:
    recorder = tracer.Recorder()
    app = tracer.instrument(_wsgi_app(name, value), recorder=recorder, **options)
    assert isinstance(app, WsgiShim)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.input": None}
    list(app(environ, lambda status, headers, exc_info=None: None))
    return [e.data["message"] for e in recorder.events if e.kind == "violation"]


def _asgi_messages(name: str, value: str, **options: Any) -> list[str]:
    recorder = tracer.Recorder()
    app = tracer.instrument(_asgi_app(name, value), recorder=recorder, **options)
    assert isinstance(app, AsgiShim)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "headers": [],
        "client": None,
        "server": None,
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    asyncio.run(app(scope, receive, send))
    return [e.data["message"] for e in recorder.events if e.kind == "violation"]


@pytest.mark.parametrize("messages", [_wsgi_messages, _asgi_messages], ids=["wsgi", "asgi"])
def test_a_named_header_is_redacted_in_findings(messages: Any) -> None:
    found = messages("X-Customer-Id", SECRET, redact_headers={"x-customer-id"})
    assert len(found) == 1, found
    assert SECRET not in found[0] and "'[redacted]'" in found[0]


@pytest.mark.parametrize("messages", [_wsgi_messages, _asgi_messages], ids=["wsgi", "asgi"])
def test_nothing_is_redacted_in_findings_when_the_shim_redacts_nothing(messages: Any) -> None:
    found = messages("Authorization", "Bearer t", redact=False)
    assert len(found) == 1, found
    assert "'Bearer t'" in found[0] and "[redacted]" not in found[0]


@pytest.mark.parametrize("messages", [_wsgi_messages, _asgi_messages], ids=["wsgi", "asgi"])
def test_a_default_secret_is_redacted_in_findings(messages: Any) -> None:
    found = messages("Authorization", "Bearer t")
    assert len(found) == 1, found
    assert "Bearer t" not in found[0] and "'[redacted]'" in found[0]

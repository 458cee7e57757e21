"""A message whose ``type`` is a list (unhashable) is flagged ASGI-002 like any other type
that is not a str; the checker does not fail on it (it did: a TypeError, the request's checks
switched off and a traceback logged)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

import tracer

SCOPE = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/",
    "raw_path": b"/",
    "query_string": b"",
    "root_path": "",
    "headers": [],
    "client": ("127.0.0.1", 5000),
    "server": ("127.0.0.1", 8000),
}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": ["http.response.body"], "body": b"x"})
    await send({"type": "http.response.body", "body": b"ok"})


def test_a_list_as_a_messages_type_is_asgi_002(caplog: pytest.LogCaptureFixture) -> None:
    wrapped = tracer.instrument(app)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    with caplog.at_level(logging.WARNING):
        asyncio.run(wrapped(dict(SCOPE), receive, send))
    rules = [e.data["rule"] for e in wrapped.recorder.events if e.kind == "violation"]
    assert rules == ["ASGI-002"]
    assert not [r for r in caplog.records if r.exc_info], caplog.text

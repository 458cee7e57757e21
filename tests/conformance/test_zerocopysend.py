"""The ASGI "Zero Copy Send" extension: its message is ``http.response.zerocopysend`` (fields
``file``, ``offset``, ``count``, ``more_body``), which ends the response body unless
``more_body`` says more follows. An app using it where the server advertises it is legal."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import tracer

ZEROCOPY = "http.response.zerocopysend"


def _scope(extensions: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": [],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
        "extensions": extensions,
    }


def _violations(app: Any, extensions: dict[str, Any]) -> list[str]:
    """Drive ``app`` once through the shim, as a server advertising ``extensions``."""
    recorder = tracer.Recorder()
    messages = iter([{"type": "http.request", "body": b"", "more_body": False}])

    async def receive() -> dict[str, Any]:
        return next(messages, {"type": "http.disconnect"})

    async def send(message: dict[str, Any]) -> None:
        pass

    asyncio.run(tracer.instrument(app, recorder=recorder)(_scope(extensions), receive, send))
    return [e.data["rule"] for e in recorder.events if e.kind == "violation"]


def _file_app(*sends: dict[str, Any]) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        fd = os.open(__file__, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            headers = [(b"content-length", str(size).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            for message in sends:
                await send({"type": ZEROCOPY, "file": fd, **message})
        finally:
            os.close(fd)

    return app


def test_zerocopysend_ends_the_body_when_advertised() -> None:
    assert _violations(_file_app({}), {ZEROCOPY: {}}) == []


def test_zerocopysend_in_parts_with_more_body() -> None:
    app = _file_app({"offset": 0, "count": 10, "more_body": True}, {"offset": 10})
    assert _violations(app, {ZEROCOPY: {}}) == []


def test_zerocopysend_with_more_body_left_open_is_an_unfinished_body() -> None:
    assert _violations(_file_app({"count": 10, "more_body": True}), {ZEROCOPY: {}}) == ["HTTP-005"]


def test_zerocopysend_not_advertised_is_http_026() -> None:
    assert _violations(_file_app({}), {}) == ["HTTP-026"]

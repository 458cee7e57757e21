"""Where a request is over for the summary when the app has the server send a file
(``http.response.pathsend`` / ``zerocopysend``), and when the server refused the last body."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from shim_asgi_apps import call

import tracer
from tracer import events as K
from tracer.summary import ends_response


@pytest.mark.parametrize(
    ("data", "ends"),
    [
        ({"type": "http.response.body", "more_body": False}, True),
        ({"type": "http.response.body", "more_body": True}, False),
        ({"type": "http.response.pathsend"}, True),
        ({"type": "http.response.zerocopysend"}, True),
        ({"type": "http.response.zerocopysend", "more_body": True}, False),
        ({"type": "http.response.body", "raised": "OSError"}, False),
        ({"type": "http.response.pathsend", "raised": "OSError"}, False),
        ({"type": "http.response.start"}, False),
    ],
)
def test_the_last_body_message_of_each_kind_ends_the_response(
    data: dict[str, Any], ends: bool
) -> None:
    assert ends_response(data) is ends


def test_a_pathsend_ends_the_requests_latency_at_the_send(tmp_path: Path) -> None:
    """An app that has the server send a file, then works on 50 ms: its latency ends at the
    ``pathsend``, as it would at a last ``body``, not at ``request.end``."""
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 1000)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.pathsend", "path": str(path)})
        await asyncio.sleep(0.05)  # after the response: not latency

    rec = tracer.Recorder()
    asyncio.run(
        call(tracer.instrument(app, recorder=rec), extensions={"http.response.pathsend": {}})
    )
    start = next(e for e in rec.events if e.kind == K.REQUEST_START)
    send = [e for e in rec.events if e.kind == K.ASGI_SEND][-1]
    end = next(e for e in rec.events if e.kind == K.REQUEST_END)
    assert send.data["type"] == "http.response.pathsend"
    assert end.data["bytes_out"] == 1000
    latency_ns = tracer.summarize(rec.events)["latency_ms"]["max"] * 1e6
    assert latency_ns <= send.t + send.dur - start.t + 1_000
    assert latency_ns < end.t - start.t - 40_000_000

"""The ``loop`` model numbers the lifespan and the requests as uvicorn's recording does."""

from __future__ import annotations

import os
from typing import Any

import pytest
from model_driver import running, send_all

from tracer import events as K
from tracer.servers import Request

pytestmark = pytest.mark.timeout(30)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers lifespan startup and shutdown, and each request with 200 ``ok``."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_the_lifespan_has_the_server_process_id_and_the_requests_start_at_1() -> None:
    """Under uvicorn the lifespan is the server process's own connection, ``pid x 10^6 + 1``,
    and the client's requests are 1, 2, 3: so here too, the server process being this one
    (the lifespan took id 1 and the first request was 2). The lifespan starts before the
    first request arrives and ends after the last one."""
    with running("loop", app) as (model, recorder):
        send_all(model, [Request(path="/")] * 3, concurrency=1)
    events = sorted(recorder.events, key=lambda e: e.seq)
    starts = [(e.req, e.data.get("scope_type")) for e in events if e.kind == K.REQUEST_START]
    lifespan = os.getpid() * 1_000_000 + 1
    assert starts == [(lifespan, "lifespan"), (1, "http"), (2, "http"), (3, "http")]
    assert [e.req for e in events if e.kind == K.REQUEST_QUEUED] == [1, 2, 3]
    assert [e.req for e in events if e.kind == K.REQUEST_END] == [1, 2, 3, lifespan]

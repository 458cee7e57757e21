"""A websocket session whose app sleeps after its last ``receive()`` and then returns without a
close, while its client still waits for replies: uvicorn closes the connection as the app
returns, and its network client fails the session then (``ConnectionResetError``). The ``loop``
model's recording says the same: the session failed so, and it stayed open until the app
returned, past its sleep, not only until the app's last ``receive()``.
"""

from __future__ import annotations

import asyncio

import pytest
from model_driver import running
from real_helpers import HERE, run_real
from real_ws_late_drop import app

from tracer import events as K
from tracer.client import ClientConfig
from tracer.request_span import request_spans
from tracer.servers import Request
from tracer.servers.scope import DROPPED_SESSION

pytestmark = pytest.mark.timeout(60)


def _session(events: list[K.Event]) -> tuple[int, K.Event]:
    """The session's request id and the end of the app's sleep (its step that awaited it)."""
    [step] = [
        e for e in events if e.kind == K.SCHED_STEP and e.data.get("awaiting") == "asyncio.sleep"
    ]
    assert step.req is not None
    return step.req, step


def test_the_session_stays_open_until_the_app_returns_as_under_uvicorn() -> None:
    real = run_real(
        "uvicorn",
        "real_ws_late_drop:app",
        ClientConfig(concurrency=1, requests=1, ws_messages=3, paths=["/x"]),
        app_dir=HERE,
    )

    async def session(model: object) -> None:
        target = model.target  # type: ignore[attr-defined]
        await target.request(Request(path="/x", websocket=True, ws_messages=3))

    with running("loop", app) as (model, recorder):
        asyncio.run(session(model))  # answered once the app returned: both ends are in
    modelled = recorder.recording().events

    for events in (real.events, modelled):
        req, slept = _session(events)
        span = request_spans(events)[req]
        assert (span.outcome_status, span.outcome_error) == (101, DROPPED_SESSION)
        assert span.finished is not None
        assert span.finished >= slept.end  # open past the app's sleep

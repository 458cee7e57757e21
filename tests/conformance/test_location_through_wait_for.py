"""A violation inside ``asyncio.wait_for(receive(), t)`` is located at the app's ``await``.

On Python 3.11 ``wait_for`` runs ``receive()`` in a task of its own, whose stack holds no
frame of the app: the location named the event loop (``asyncio/events.py``) or the server
above it. It is the line of the app's coroutine that awaits that task, under ``trace check``
and during a traced run alike.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from model_driver import running

from tracer import events as K
from tracer.conformance.driver import check_app
from tracer.servers import Request
from tracer.servers.waits import monotonic, sleep
from tracer.sourcepath import display_path

pytestmark = pytest.mark.timeout(60)

HERE = display_path(__file__)


def _line(marker: str) -> int:
    """The line of this file that holds ``marker`` in a comment."""
    with open(__file__, encoding="utf-8") as file:
        for number, text in enumerate(file, 1):
            if text.rstrip().endswith(f"# {marker}"):
                return number
    raise AssertionError(marker)


async def receives_again_with_a_timeout(scope: Any, receive: Any, send: Any) -> None:
    """Echoes until the disconnect, then (wrongly) reads once more, within 0.2 s."""
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    while (await receive())["type"] != "websocket.disconnect":
        await send({"type": "websocket.send", "text": "reply"})
    await asyncio.wait_for(receive(), 0.2)  # again after disconnect


async def gathers_a_receive(scope: Any, receive: Any, send: Any) -> None:
    """The same mistake through ``asyncio.gather``, whose task the app awaits through a future."""
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    while (await receive())["type"] != "websocket.disconnect":
        await send({"type": "websocket.send", "text": "reply"})
    await asyncio.gather(asyncio.ensure_future(receive()))  # gathered after disconnect


@pytest.mark.parametrize(
    ("app", "marker"),
    [
        (receives_again_with_a_timeout, "again after disconnect"),
        (gathers_a_receive, "gathered after disconnect"),
    ],
)
def test_trace_check_names_the_app_s_await(app: Any, marker: str) -> None:
    report = check_app(app, paths=["/"], timeout=2.0)
    found = {finding.location for finding in report.findings if finding.rule == "WS-011"}
    assert found == {f"{HERE}:{_line(marker)}"}


def test_a_traced_run_names_the_app_s_await() -> None:
    """On the ``loop`` model, the violation recorded during the session."""
    with running("loop", receives_again_with_a_timeout) as (model, recorder):

        async def main() -> Any:
            request = Request(path="/ws", websocket=True, ws_messages=1)
            return await model.target.request(request, timeout=10.0)

        response = asyncio.run(main())
        deadline = monotonic() + 5.0
        while monotonic() < deadline and not any(
            e.kind == K.VIOLATION and e.req == response.req for e in recorder.events
        ):
            sleep(0.005)
    violations = [
        (e.data["rule"], e.data.get("location"))
        for e in recorder.events
        if e.kind == K.VIOLATION and e.req == response.req
    ]
    assert violations == [("WS-011", f"{HERE}:{_line('again after disconnect')}")]

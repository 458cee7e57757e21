"""The ``loop`` model records the close a WebSocket client gets under uvicorn where the app's
own messages say another (``WebSocketCycle.unsaid_close_code``): the client's close, which
uvicorn answers with 1000 at once, counts under 1000 though the app returns without reading
it, as the network client counts it; an app that returns before the client's close came
gives no code (uvicorn closes the connection without a close frame).

The model's end for the client carries ``close_code``, dated when the session ended for the
client, before the shim's (readers take the first); a session the app's messages already
say right has the shim's end alone.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from model_driver import running

from tracer import events as K
from tracer.digest import Digest
from tracer.events import Event
from tracer.servers import Request
from tracer.servers.waits import monotonic, sleep
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(30)

POLLS = 100
"""Loop turns an app that never reads waits for the client's close at most (it comes in two)."""


async def _until_the_client_closed(send: Any) -> None:
    """Wait for the client's close without ``receive()``: a send raises once it came."""
    for _ in range(POLLS):
        await asyncio.sleep(0)
        try:
            await send({"type": "websocket.send", "text": "."})
        except OSError:  # the model's ClientDisconnected, as uvicorn's
            return
    raise AssertionError("the client never closed")


async def app(scope: Any, receive: Any, send: Any) -> None:
    """Echo the client's first message, then per path: ``/unread`` returns once the client's
    close came, never reading it; ``/unread-raise`` raises then; ``/read`` reads the
    disconnect and returns; ``/early`` returns at once, before the client's close."""
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    message = await receive()
    await send({"type": "websocket.send", "text": message["text"]})
    path = scope["path"]
    if path == "/read":
        assert (await receive())["type"] == "websocket.disconnect"
    elif path == "/unread":
        await _until_the_client_closed(send)
    elif path == "/unread-raise":
        await _until_the_client_closed(send)
        raise LookupError("after the client's close")


def _run(paths: tuple[str, ...]) -> tuple[list[Event], dict[str, int]]:
    """One session per path (1 message each); the events once every app returned, and each
    path's request id."""

    async def sessions(model: Any) -> list[int]:
        responses = await asyncio.gather(
            *(
                model.target.request(Request(path=p, websocket=True, ws_messages=1), timeout=10)
                for p in paths
            )
        )
        return [response.req for response in responses]

    with running("loop", app) as (model, recorder):
        reqs = asyncio.run(sessions(model))
        deadline = monotonic() + 5.0
        while monotonic() < deadline:  # the shim's ends, once each app returned
            ended = {e.req for e in recorder.events if e.kind == K.REQUEST_END}
            if set(reqs) <= ended:
                break
            sleep(0.005)
    return recorder.recording().events, dict(zip(paths, reqs, strict=True))


def _ends(events: list[Event], req: int) -> list[Event]:
    return sorted(
        (e for e in events if e.req == req and e.kind == K.REQUEST_END),
        key=lambda e: (e.t, e.seq),
    )


def test_the_clients_close_counts_though_the_app_never_reads_it() -> None:
    events, reqs = _run(("/unread", "/read", "/early"))
    unread = _ends(events, reqs["/unread"])
    # The model's end, with the code the client got, then the shim's (no code: the app's view).
    assert [(e.data["close_code"] if "close_code" in e.data else None) for e in unread] == [
        1000,
        None,
    ]
    assert unread[0].data["status"] == 101 and unread[0].data["error"] is None
    assert unread[0].seq > unread[1].seq  # recorded once the app was done, dated before
    # Its date: when the client's close came, before the app's first send that raised for it.
    raised = next(
        e
        for e in events
        if e.req == reqs["/unread"] and e.kind == K.ASGI_SEND and e.data.get("raised")
    )
    assert unread[0].t <= raised.t
    # An app that read the disconnect, or returned before the client's close: the shim's end.
    assert [len(_ends(events, reqs[p])) for p in ("/read", "/early")] == [1, 1]
    summary = summarize(events)
    # /unread and /read under 1000; /early under none (no close frame reached the client).
    assert summary["ws_close_codes"] == {"1000": 2}
    assert summary["errors"] == 0
    digest = Digest()  # what the live dashboard and the report count from
    digest.feed(events)
    assert digest.summary()["ws_close_codes"] == {"1000": 2}


def test_an_app_that_raises_after_the_unread_close_keeps_its_error() -> None:
    events, reqs = _run(("/unread-raise",))
    ends = _ends(events, reqs["/unread-raise"])
    assert [(e.data["error"], e.data.get("close_code")) for e in ends] == [
        ("LookupError", 1000),
        ("LookupError", None),
    ]
    summary = summarize(events)
    assert (summary["errors"], summary["ws_close_codes"]) == (1, {"1000": 1})

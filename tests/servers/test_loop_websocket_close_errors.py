"""A ``loop`` model session the app closes with a code that says it broke is an error, as the
network client judges one under a real server (``tracer.ws_close.BROKEN_CLOSE_CODES``).

The model ends such a session for its client when the close goes out: a ``request.end`` of
its own (status 101, ``error: "WebSocketClosedWithError"``) before the shim's, and the same
error in the ``Response``; so is one whose code the network client's wsproto refuses (1004,
2000, 5000), which it fails as a protocol error. The codes wsproto never puts on the wire
(1005, 1006, 1015) go out as 1000 under uvicorn, so they are no error; an answer (1000, 1008,
an app's 4000) is none. Each end of the model's says the code the client got (``close_code``):
the app's, 1002 for a refused one, 1000 for one never sent (whose end, no error, the model
records too, once the app is done).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from model_driver import running

from tracer import events as K
from tracer.client.websocket import CLOSED_WITH_ERROR
from tracer.servers import Request, Response, ServerModel
from tracer.servers.waits import monotonic, sleep
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(30)

BROKEN = (1002, 1003, 1007, 1009, 1010, 1011)
REFUSED = (1004, 1014, 2000, 5000)
"""Codes the network client's wsproto refuses in a close frame: it fails the session with
1002 (a protocol error) under uvicorn, which sends them as they are."""
ANSWERS = (1000, 1001, 1008, 1012, 3000, 4000, 4999)
NEVER_SENT = (1005, 1006, 1015)


async def closes_with_the_path_code(scope: Any, receive: Any, send: Any) -> None:
    """Accepts, echoes the client's first message, then closes with the code the path names."""
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    message = await receive()
    await send({"type": "websocket.send", "text": message["text"]})
    await send({"type": "websocket.close", "code": int(scope["path"].strip("/"))})


def _send(model: ServerModel, requests: list[Request]) -> list[Response]:
    async def main() -> list[Response]:
        return list(
            await asyncio.gather(*(model.target.request(r, timeout=10.0) for r in requests))
        )

    return asyncio.run(main())


def test_the_model_names_the_error_as_the_network_client_does() -> None:
    from tracer.servers.scope import CLOSED_WITH_ERROR as MODEL_CLOSED_WITH_ERROR

    assert MODEL_CLOSED_WITH_ERROR == CLOSED_WITH_ERROR


def test_a_session_closed_with_a_broken_code_is_an_error() -> None:
    codes = BROKEN + REFUSED + ANSWERS + NEVER_SENT
    requests = [Request(path=f"/{code}", websocket=True, ws_messages=1) for code in codes]
    with running("loop", closes_with_the_path_code) as (model, recorder):
        responses = _send(model, requests)
        reqs = {response.req for response in responses}
        deadline = monotonic() + 5.0
        while monotonic() < deadline:  # the shim's own ends, once each app returned
            ended = {
                e.req for e in recorder.events if e.kind == K.REQUEST_END and not e.data["error"]
            }
            if reqs <= ended:
                break
            sleep(0.005)
    by_code = dict(zip(codes, responses, strict=True))
    for code, response in by_code.items():
        expected = CLOSED_WITH_ERROR if code in BROKEN + REFUSED else None
        assert (code, response.status, response.bytes_out, response.error) == (
            code,
            101,
            9,
            expected,
        )
    events = recorder.events
    for code, response in by_code.items():
        ends = sorted(
            (e for e in events if e.req == response.req and e.kind == K.REQUEST_END),
            key=lambda e: (e.t, e.seq),
        )
        close = next(
            e
            for e in events
            if e.req == response.req
            and e.kind == K.ASGI_SEND
            and e.data["type"] == "websocket.close"
        )
        shim = {"status": 101, "bytes_in": 9, "bytes_out": 9, "error": None}
        if code in BROKEN + REFUSED + NEVER_SENT:
            # The model's end for the client, when the close went out, then the shim's.
            error = CLOSED_WITH_ERROR if code in BROKEN + REFUSED else None
            wire = 1002 if code in REFUSED else 1000 if code in NEVER_SENT else code
            assert [e.data for e in ends] == [
                {"status": 101, "bytes_in": 9, "bytes_out": 9, "error": error, "close_code": wire},
                shim,
            ]
            assert ends[0].t <= close.t + (close.dur or 0)
        else:
            assert [e.data for e in ends] == [shim]
    summary = summarize(recorder.recording())
    assert summary["errors"] == len(BROKEN + REFUSED)
    assert summary["status"] == {"101": len(codes)}
    wire_codes = [1002 if c in REFUSED else 1000 if c in NEVER_SENT else c for c in codes]
    assert summary["ws_close_codes"] == {
        str(code): wire_codes.count(code) for code in sorted(set(wire_codes))
    }

"""A websocket app that returns after accepting, without a close, while its client still waits
for a reply: uvicorn closes the connection without a close frame, and the network client
records the session as failed (``ConnectionResetError``). The ``loop`` model records its own
end for the client so, before the shim's error-free end (readers take the first): dated as the
app returned (the later of its last ``receive()`` or ``send()`` and the start of the step it
returned in: here, both return in the step of their last call), with no ``close_code`` (the
client got none). An app
that returns once the client had every reply (its close is on its way), one that raises (the
shim's end names its error) and one that closes get no such end.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from model_driver import running

from tracer import events as K
from tracer.digest import Digest
from tracer.events import Event
from tracer.request_span import request_spans
from tracer.servers import Request
from tracer.servers.scope import DROPPED_SESSION
from tracer.servers.waits import monotonic, sleep
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(30)

MESSAGES = 2
"""What each client sends: the app's paths answer none, one or both before returning."""


async def app(scope: Any, receive: Any, send: Any) -> None:
    """Accept, then per path: ``/accept-return`` returns at once; ``/echo-return`` echoes one
    message and returns; ``/echo-all-return`` echoes both and returns; ``/echo-raise`` echoes
    one and raises; ``/echo-close`` echoes one and closes with 1000."""
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    path = scope["path"]
    if path == "/accept-return":
        return
    for _ in range(MESSAGES if path == "/echo-all-return" else 1):
        message = await receive()
        await send({"type": "websocket.send", "text": message["text"]})
    if path == "/echo-raise":
        raise LookupError("after one echo")
    if path == "/echo-close":
        await send({"type": "websocket.close", "code": 1000})


PATHS = ("/accept-return", "/echo-return", "/echo-all-return", "/echo-raise", "/echo-close")


def _run() -> tuple[list[Event], dict[str, int], dict[str, str | None]]:
    """One session per path; the events once every app returned, each path's request id and
    the error its ``Response`` gave the load generator."""

    async def sessions(model: Any) -> list[Any]:
        return await asyncio.gather(
            *(
                model.target.request(
                    Request(path=p, websocket=True, ws_messages=MESSAGES), timeout=10
                )
                for p in PATHS
            )
        )

    with running("loop", app) as (model, recorder):
        responses = asyncio.run(sessions(model))
        reqs = [response.req for response in responses]
        deadline = monotonic() + 5.0
        while monotonic() < deadline:  # the shim's ends, once each app returned
            # (the shim records its end on the request's task; the model its own on none)
            shims = {e.req for e in recorder.events if e.kind == K.REQUEST_END and e.task}
            if set(reqs) <= shims:
                break
            sleep(0.005)
    return (
        recorder.recording().events,
        dict(zip(PATHS, reqs, strict=True)),
        {p: r.error for p, r in zip(PATHS, responses, strict=True)},
    )


@pytest.fixture(scope="module")
def run() -> tuple[list[Event], dict[str, int], dict[str, str | None]]:
    return _run()


def _ends(events: list[Event], req: int) -> list[Event]:
    return sorted(
        (e for e in events if e.req == req and e.kind == K.REQUEST_END),
        key=lambda e: (e.t, e.seq),
    )


def test_the_models_end_comes_first_with_the_clients_error(run: Any) -> None:
    events, reqs, _ = run
    for path, replies in (("/accept-return", 0), ("/echo-return", 1)):
        ends = _ends(events, reqs[path])
        assert [e.data["error"] for e in ends] == [DROPPED_SESSION, None], path
        model_end, shim_end = ends
        assert model_end.seq > shim_end.seq  # recorded once the app was done, dated before
        assert "close_code" not in model_end.data  # no close frame reached the client
        assert {k: model_end.data[k] for k in ("status", "bytes_in", "bytes_out")} == {
            "status": 101,
            "bytes_in": len(b"message 1") * replies,
            "bytes_out": len(b"message 1") * replies,
        }
        # Dated as the app returned, in the step of its last call: at that call, its last
        # send (the accept, the echo), which the shim times around the model's.
        last_send = max(
            (e for e in events if e.req == reqs[path] and e.kind == K.ASGI_SEND),
            key=lambda e: e.t,
        )
        assert last_send.t <= model_end.t <= last_send.end <= shim_end.t


def test_other_ends_are_the_shims_alone(run: Any) -> None:
    events, reqs, _ = run
    for path in ("/echo-all-return", "/echo-raise", "/echo-close"):
        assert [e.data["error"] for e in _ends(events, reqs[path])] == [
            "LookupError" if path == "/echo-raise" else None
        ], path


def test_readers_count_the_dropped_sessions_as_errors(run: Any) -> None:
    events, reqs, errors = run
    failed = {p: request_spans(events)[reqs[p]].failed for p in PATHS}
    assert failed == {
        "/accept-return": True,
        "/echo-return": True,
        "/echo-all-return": False,
        "/echo-raise": True,
        "/echo-close": False,
    }
    summary = summarize(events)
    assert summary["errors"] == 3
    assert summary["ws_close_codes"] == {"1000": 1}
    digest = Digest()  # what the live dashboard and the report count from
    digest.feed(events)
    assert digest.summary()["errors"] == 3
    assert errors == {
        "/accept-return": DROPPED_SESSION,
        "/echo-return": DROPPED_SESSION,
        "/echo-all-return": None,
        "/echo-raise": "LookupError",
        "/echo-close": None,
    }

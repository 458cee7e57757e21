"""The ``loop`` model's websocket sessions give up the loop at each message, as uvicorn's do.

uvicorn's ``receive()`` awaits its queue, which the protocol feeds as the client's frames
arrive: the client sends its next message only once it read the reply, so each receive of a
next message suspends. One session is then a step per message (``awaiting: "receive"``), and
sessions on one loop interleave instead of running one after another.
"""

from __future__ import annotations

import asyncio
import gc
import threading

import pytest
from model_driver import by_kind, running

from sample_apps import websocket
from tracer import events as K
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.servers import Request, Response, ServerModel
from tracer.servers.waits import monotonic, sleep

pytestmark = pytest.mark.timeout(60)


def _session(messages: int) -> Request:
    return Request(path="/ws", websocket=True, ws_messages=messages)


def _steps(events: list[Event], req: int) -> list[tuple[list[str], str | None]]:
    """Each step of ``req``: the ASGI messages called in it (in order) and what it awaited."""
    mine = [e for e in events if e.req == req]
    calls = sorted(
        (e for e in mine if e.kind in (K.ASGI_RECEIVE, K.ASGI_SEND)), key=lambda e: (e.t, e.seq)
    )
    out = []
    for step in by_kind(mine, K.SCHED_STEP):
        inside = [e.data["type"] for e in calls if step.t <= e.t <= step.t + (step.dur or 0)]
        out.append((inside, step.data["awaiting"]))
    return out


def test_a_session_is_a_step_per_message() -> None:
    """At -c 1: the connect, the accept and the first receive in one step, then one step per
    reply, each ending in a receive that waits for the client; the last one after the close."""
    with running("loop", websocket.app) as (model, recorder):
        [response] = _send_gated(model, [_session(3)])
        _ended(recorder, [response])
    assert (response.status, response.error) == (101, None)
    assert _steps(recorder.events, response.req) == [
        (["websocket.connect", "websocket.accept", "websocket.receive"], "receive"),
        (["websocket.send", "websocket.receive"], "receive"),
        (["websocket.send", "websocket.receive"], "receive"),
        (["websocket.send", "websocket.disconnect"], "receive"),
        ([], None),
    ]


def _ended(recorder: Recorder, responses: list[Response]) -> None:
    """Wait (within 5 s) for every session's ``request.end``: the client has its close answered
    a moment before the app's task takes its last step, and a model stopping meanwhile makes
    that step yield once more (``_pause_if_stopping``)."""
    want = {r.req for r in responses}
    deadline = monotonic() + 5.0
    while monotonic() < deadline:
        if want <= {e.req for e in recorder.events if e.kind == K.REQUEST_END}:
            return
        sleep(0.005)


def _send_gated(model: ServerModel, requests: list[Request]) -> list[Response]:
    """Send every request at once, the server loop held until all have arrived at it, so its
    tasks start together (how they then interleave is the model's doing, not the clients')."""
    gate = threading.Event()
    model.loop.call_soon_threadsafe(gate.wait, 10.0)  # type: ignore[attr-defined]

    async def main() -> list[Response]:
        tasks = [asyncio.ensure_future(model.target.request(r, timeout=10.0)) for r in requests]
        await asyncio.sleep(0)  # each task has posted its request to the server
        gate.set()
        return list(await asyncio.gather(*tasks))

    try:
        return asyncio.run(main())
    finally:
        gate.set()


def test_sessions_on_one_loop_interleave() -> None:
    """At -c 10: every session starts before any ends, and each one's messages interleave with
    the others' (uvicorn: max_in_flight 10; the model used to serve them one at a time)."""
    with running("loop", websocket.app) as (model, recorder):
        responses = _send_gated(model, [_session(3) for _ in range(10)])
        _ended(recorder, responses)
    assert [(r.status, r.error) for r in responses] == [(101, None)] * 10
    events = recorder.events
    starts = {e.req: e for e in by_kind(events, K.REQUEST_START)}
    ends = {e.req: e for e in by_kind(events, K.REQUEST_END)}
    reqs = [r.req for r in responses]
    assert max(starts[r].t for r in reqs) < min(ends[r].t for r in reqs)
    # Between a session's first and last message another session received one of its own.
    received = [e for e in by_kind(events, K.ASGI_RECEIVE) if e.req in reqs]
    for req in reqs:
        mine = [i for i, e in enumerate(received) if e.req == req]
        assert any(received[i].req != req for i in range(mine[0], mine[-1])), req


def test_a_long_echo_never_holds_the_loop() -> None:
    """2000 messages in each of 2 sessions: 2002 short steps each, no ``loop.blocked`` of the
    app's own (the model used to run a whole session in one step, charged to the app's
    receive line)."""
    gc.disable()  # a collection of the whole process (the tool's objects too) is no step's
    try:
        with running("loop", websocket.app) as (model, recorder):
            responses = _send_gated(model, [_session(2000), _session(2000)])
            _ended(recorder, responses)
    finally:
        gc.enable()
    assert [(r.status, r.error) for r in responses] == [(101, None)] * 2
    events = recorder.events
    for response in responses:
        steps = [e for e in by_kind(events, K.SCHED_STEP) if e.req == response.req]
        assert len(steps) == 2002
    # No step of the app's own held the loop by computing: a block is a step that ran 10 ms,
    # and one that was not on the CPU for most of it waited for the machine (another process,
    # the tool's own threads; the watchdog marks most such `starved`, not all on a busy host),
    # which is not the model's doing.
    steps = {(e.req, e.t): e for e in by_kind(events, K.SCHED_STEP)}
    blocked = [e for e in by_kind(events, K.LOOP_BLOCKED) if not e.data.get("starved")]
    computing = [e for e in blocked if steps[(e.req, e.t)].data["cpu_ns"] * 2 > e.dur]
    assert computing == []


async def _never_answers(scope, receive, send):  # type: ignore[no-untyped-def]
    """Takes the handshake's connect, then returns without accepting or closing."""
    if scope["type"] == "websocket":
        await receive()


def test_a_handshake_the_app_never_answers_gets_500_as_from_uvicorn() -> None:
    """uvicorn answers 500 to a handshake the app returned without answering (403 only to a
    close before accept); the model's client gets the same, as the shim's end records."""
    with running("loop", _never_answers) as (model, recorder):
        [response] = _send_gated(model, [_session(1)])
        recorder.drain()
        ends = [
            e.data["status"]
            for e in recorder.events
            if e.kind == K.REQUEST_END and e.req == response.req
        ]
    assert response.status == 500
    assert ends and set(ends) == {500}

"""The ``loop`` model's recording of websocket sessions the app closes with a code says what
uvicorn's says: the same sessions are errors (a code that says the session broke, 1011, 1002,
..., and an app that raised after accepting), the same ones answers (1000, 1008, an app's
4000), under the same close codes: those the client gets on the wire, where uvicorn changes
the app's (2000, which the client refuses as a protocol error: 1002; 1005, which no close
frame carries: 1000), and the client's own close, which uvicorn answers with 1000 though the
app returns without reading it (``/unread``).

One uvicorn run and one ``loop`` run of the same app, both summarised. Then the sessions whose
app returns without a close while the client still waits for a reply (``/accept-return``: at
once after accepting; ``/echo-return``: after one echo, to a client that sends two): uvicorn
closes the connection without a close frame, which the network client records as a failure
(``ConnectionResetError``), and so does the model, by an end of its own before the shim's.
"""

from __future__ import annotations

import asyncio

import pytest
from model_driver import running
from real_helpers import HERE, run_real
from real_ws_close import app

from tracer import events as K
from tracer.client import ClientConfig
from tracer.request_span import request_spans
from tracer.servers import Request
from tracer.servers.scope import DROPPED_SESSION
from tracer.servers.waits import monotonic, sleep
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(60)

CODES = (1011, 1002, 1003, 1000, 1008, 4000, 2000, 1005)
PATHS = (*(f"/{code}" for code in CODES), "/unread", "/raise")
"""Each code's session, one whose app returns without a close once the client's close came,
and one whose app raises instead of its echo (``int("raise")``): uvicorn drops that
connection without a close frame."""


def _failed_paths(events: list[K.Event]) -> dict[str, bool]:
    """Path -> whether its session failed, as the summary judges it."""
    paths = {
        e.req: e.data["path"] for e in events if e.kind == K.REQUEST_START and e.req is not None
    }
    return {paths[req]: span.failed for req, span in request_spans(events).items()}


def _ended_well(events: list[K.Event]) -> set[int | None]:
    """The requests with an end that has no error (the shim's, once the app returned)."""
    return {e.req for e in events if e.kind == K.REQUEST_END and not e.data["error"]}


def test_loop_and_uvicorn_judge_each_close_code_alike() -> None:
    real = run_real(
        "uvicorn",
        "real_ws_close:app",
        ClientConfig(concurrency=len(PATHS), requests=len(PATHS), ws_messages=1, paths=PATHS),
        app_dir=HERE,
    )

    async def sessions(model: object) -> None:
        target = model.target  # type: ignore[attr-defined]
        await asyncio.gather(
            *(target.request(Request(path=p, websocket=True, ws_messages=1)) for p in PATHS)
        )

    with running("loop", app) as (model, recorder):
        asyncio.run(sessions(model))
        deadline = monotonic() + 5.0  # each app's own end (all but /raise's), once it returned
        while monotonic() < deadline and len(_ended_well(recorder.events)) < len(PATHS) - 1:
            sleep(0.005)
    modelled = recorder.recording().events

    assert (
        _failed_paths(modelled)
        == _failed_paths(real.events)
        == {
            **{f"/{code}": code in (1011, 1002, 1003, 2000) for code in CODES},
            "/unread": False,
            "/raise": True,
        }
    )
    ours, theirs = summarize(modelled), summarize(real.events)
    for key in ("errors", "status", "ws_close_codes"):
        assert ours[key] == theirs[key], key
    assert theirs["ws_close_codes"] == {
        "1000": 3,  # 1000, 1005 (sent as 1000), /unread (the client's close, answered)
        "1002": 2,  # 1002, 2000 (refused by the client)
        "1003": 1,
        "1008": 1,
        "1011": 1,
        "4000": 1,
    }


DROPPED = ("/accept-return", "/echo-return")
"""Sessions whose app returns without a close while the client, sending two messages, still
waits for a reply: after the accept, after the first echo."""


def test_loop_and_uvicorn_fail_a_session_dropped_without_a_close_alike() -> None:
    real = run_real(
        "uvicorn",
        "real_ws_close:app",
        ClientConfig(concurrency=len(DROPPED), requests=len(DROPPED), ws_messages=2, paths=DROPPED),
        app_dir=HERE,
    )

    async def sessions(model: object) -> None:
        target = model.target  # type: ignore[attr-defined]
        await asyncio.gather(
            *(target.request(Request(path=p, websocket=True, ws_messages=2)) for p in DROPPED)
        )

    with running("loop", app) as (model, recorder):
        asyncio.run(sessions(model))
        deadline = monotonic() + 5.0  # the shim's ends, once each app returned
        while monotonic() < deadline and len(_ended_well(recorder.events)) < len(DROPPED):
            sleep(0.005)
    modelled = recorder.recording().events

    # The network client's failure under uvicorn; the model's own end, first, says the same.
    answers = [e for e in real.events if e.kind == K.CLIENT_RESPONSE]
    assert sorted((e.data["error"], e.data["status"], e.data["messages"]) for e in answers) == [
        (DROPPED_SESSION, 101, 0),
        (DROPPED_SESSION, 101, 1),
    ]
    assert all("close_code" not in e.data for e in answers)
    spans = request_spans(modelled)  # (the lifespan left out)
    firsts: dict[int | None, K.Event] = {}  # the first end in recording order, as exporters read
    for event in sorted(modelled, key=lambda e: (e.t, e.seq)):
        if event.kind == K.REQUEST_END and event.req in spans and event.req not in firsts:
            firsts[event.req] = event
    assert [e.data["error"] for e in firsts.values()] == [DROPPED_SESSION] * 2
    assert _failed_paths(modelled) == _failed_paths(real.events) == dict.fromkeys(DROPPED, True)
    ours, theirs = summarize(modelled), summarize(real.events)
    for key in ("errors", "status", "ws_close_codes"):
        assert ours.get(key) == theirs.get(key), key
    assert (theirs["errors"], theirs["status"], theirs.get("ws_close_codes")) == (
        2,
        {"101": 2},
        None,  # no close frame reached either client
    )

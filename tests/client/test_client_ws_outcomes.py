"""How a WebSocket session ended and what it negotiated, as the network client records it,
against uvicorn serving a Starlette app: the subprotocol offered in a ``Sec-WebSocket-Protocol``
header and the one accepted, the server's close code and reason (an app's 1008 or 4000 is its
answer, not an error; 1011 is an error), the session's connect time and message round trips,
and the summary's ``ws_close_codes``."""

from __future__ import annotations

from typing import Any

import pytest
from client_servers import HOST, serve_uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from tracer import events as K
from tracer.client import ClientConfig, run_client
from tracer.recorder import Recorder
from tracer.request_span import request_spans
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(60)

offered: list[list[str]] = []
"""Per session: the scope's ``subprotocols`` (uvicorn's wsproto server lists every item of
every ``Sec-WebSocket-Protocol`` header: a raw copy of the header would repeat them)."""


async def pick_first(websocket: WebSocket) -> None:
    """Accepts with the first subprotocol the client offered, then echoes."""
    subprotocols = list(websocket.scope.get("subprotocols") or [])
    offered.append(subprotocols)
    await websocket.accept(subprotocol=subprotocols[0] if subprotocols else None)
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass


async def close_with(websocket: WebSocket) -> None:
    """Echoes the first message, then closes with the path's code and a reason."""
    code = int(websocket.path_params["code"])
    await websocket.accept()
    await websocket.send_text(await websocket.receive_text())
    await websocket.receive_text()
    await websocket.close(code=code, reason=f"bye {code}")


app = Starlette(
    routes=[
        WebSocketRoute("/pick", pick_first),
        WebSocketRoute("/close/{code:int}", close_with),
    ]
)


def _run(path: str, *, headers: tuple[tuple[str, str], ...] = (), requests: int = 4) -> Any:
    recorder = Recorder()
    config = ClientConfig(
        concurrency=2, requests=requests, ws_messages=3, paths=(path,), headers=headers
    )
    with serve_uvicorn(app) as port:
        stats = run_client(HOST, port, config, recorder=recorder)
    return stats, recorder


def _responses(recorder: Recorder) -> list[dict[str, Any]]:
    return [dict(e.data) for e in recorder.events if e.kind == K.CLIENT_RESPONSE]


def test_the_offered_subprotocols_are_negotiated_and_the_accepted_one_recorded() -> None:
    """``-H 'Sec-WebSocket-Protocol: chat, superchat'``: the server sees both offered, once
    each, the app picks ``chat``, and every session goes through with ``subprotocol: chat``
    (the client used to reject the server's choice: ``RemoteProtocolError``)."""
    offered.clear()
    stats, recorder = _run("/pick", headers=(("Sec-WebSocket-Protocol", "chat, superchat"),))
    assert (stats.completed, stats.errors, dict(stats.error_types)) == (4, 0, {})
    assert offered == [["chat", "superchat"]] * 4
    for data in _responses(recorder):
        assert (data["status"], data["messages"], data["subprotocol"]) == (101, 3, "chat")


def test_no_subprotocol_offered_none_recorded() -> None:
    """Without the header nothing is offered, the app accepts without one, and the response
    has no ``subprotocol``."""
    offered.clear()
    stats, recorder = _run("/pick", requests=2)
    assert (stats.completed, stats.errors) == (2, 0)
    assert offered == [[]] * 2
    assert all("subprotocol" not in data for data in _responses(recorder))


@pytest.mark.parametrize("code", [1008, 4000])
def test_an_apps_close_code_is_its_answer_not_an_error(code: int) -> None:
    """The app closes with 1008 (policy) or 4000 (its own code) after one reply: the sessions
    keep status 101, record the code and the reason, and are no errors for the client, for
    the summary's rule, or in its count; the summary's ``ws_close_codes`` counts them."""
    stats, recorder = _run(f"/close/{code}")
    assert (stats.completed, stats.errors, dict(stats.error_types)) == (4, 0, {})
    for data in _responses(recorder):
        assert (data["status"], data["messages"], data["close_code"]) == (101, 1, code)
        assert data["close_reason"] == f"bye {code}"
        assert "error" not in data and "message" not in data
    recording = recorder.recording()
    assert not any(span.failed for span in request_spans(recording.events).values())
    summary = summarize(recording)
    assert summary["errors"] == 0
    assert summary["ws_close_codes"] == {str(code): 4}


def test_a_1011_close_is_an_error_with_its_reason() -> None:
    """1011 says the server broke: an error, with the reason in ``close_reason`` and in the
    message; the summary counts the code and the errors both."""
    stats, recorder = _run("/close/1011")
    assert (stats.completed, stats.errors) == (0, 4)
    for data in _responses(recorder):
        assert (data["close_code"], data["close_reason"]) == (1011, "bye 1011")
        assert data["error"] == "WebSocketClosedWithError"
        assert data["message"] == "the server closed the session with code 1011 (bye 1011)"
    summary = summarize(recorder.recording())
    assert (summary["errors"], summary["ws_close_codes"]) == (4, {"1011": 4})


def test_a_session_records_its_connect_time_and_round_trips() -> None:
    """``connect_ns`` (the TCP connect) comes within the handshake's ``ttfb_ns``; the median
    round trip is at most the longest, and every round trip runs after the handshake, within
    the session (``total_ns - ttfb_ns``); a clean session ends with the server's 1000."""
    stats, recorder = _run("/pick")
    assert stats.errors == 0
    responses = _responses(recorder)
    assert len(responses) == 4
    for data in responses:
        assert 0 < data["connect_ns"] <= data["ttfb_ns"]
        assert 0 < data["rtt_median_ns"] <= data["rtt_max_ns"]
        assert data["rtt_max_ns"] <= data["total_ns"] - data["ttfb_ns"]
        assert data["close_code"] == 1000 and "close_reason" not in data
    assert summarize(recorder.recording())["ws_close_codes"] == {"1000": 4}


def test_a_rejected_session_has_no_round_trips_and_no_close_code() -> None:
    """A handshake the server refuses (no route: 403) sends no message: no round trip, no
    close code, and no ``ws_close_codes`` in the summary."""
    stats, recorder = _run("/nowhere", requests=2)
    assert stats.status == {403: 2}
    for data in _responses(recorder):
        assert data["status"] == 403 and data["messages"] == 0
        assert "rtt_median_ns" not in data and "close_code" not in data
        assert data["connect_ns"] > 0
    assert "ws_close_codes" not in summarize(recorder.recording())

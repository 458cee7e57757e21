"""The summary's ``ws_close_codes``: the WebSocket sessions per close code, from a recording's
events (``tracer.summary.SessionCloses``): the network client's code when it has one, else
the first close on the server's side; rejected sessions and closes that did not go out are
not counted."""

from __future__ import annotations

from typing import Any

from tracer import events as K
from tracer.events import Event
from tracer.summary import SessionCloses, summarize

MS = 1_000_000


def _session(
    req: int,
    seq: int,
    *,
    accept: bool = True,
    app_close: tuple[int, int] | None = None,
    disconnect: tuple[int, int] | None = None,
    client: dict[str, Any] | None = None,
    close_raised: bool = False,
) -> list[Event]:
    """One session's events: start, connect, accept, the app's close and the disconnect it
    received at the given (ms, code), the end, and the client's response."""
    events = [
        Event(seq, 0, K.REQUEST_START, req, data={"scope_type": "websocket"}),
        Event(seq + 1, 1 * MS, K.ASGI_RECEIVE, req, data={"type": "websocket.connect"}),
    ]
    if accept:
        accepted = {"type": "websocket.accept", "status": None}
        events.append(Event(seq + 2, 2 * MS, K.ASGI_SEND, req, data=accepted))
    if app_close is not None:
        close: dict[str, Any] = {"type": "websocket.close", "code": app_close[1]}
        if close_raised:
            close["raised"] = "ClientDisconnected"
        events.append(Event(seq + 3, app_close[0] * MS, K.ASGI_SEND, req, data=close))
    if disconnect is not None:
        gone = {"type": "websocket.disconnect", "code": disconnect[1]}
        events.append(Event(seq + 4, disconnect[0] * MS, K.ASGI_RECEIVE, req, data=gone))
    status = 101 if accept else 403
    events.append(Event(seq + 5, 20 * MS, K.REQUEST_END, req, data={"status": status}))
    if client is not None:
        events.append(Event(seq + 6, 21 * MS, K.CLIENT_RESPONSE, req, data=client))
    return events


def test_the_clients_code_wins_else_the_first_close_on_the_servers_side() -> None:
    """Session 1: the app closed with 1001, the client got 1011 (the server changed it): 1011.
    Session 2 (a model, no client): the app's 4000 before the disconnect's 1000: 4000.
    Session 3: the client left first (1000), the app's later close 1008 came too late: 1000.
    Session 4: rejected (no accept), closed with 1000: not a session that ended, not counted.
    Session 5: the app's close raised (it did not go out), then the disconnect 1006: 1006."""
    events = [
        *_session(1, 0, app_close=(5, 1001), client={"status": 101, "close_code": 1011}),
        *_session(2, 10, app_close=(5, 4000), disconnect=(6, 1000)),
        *_session(3, 20, app_close=(9, 1008), disconnect=(6, 1000)),
        *_session(4, 30, accept=False, app_close=(5, 1000), client={"status": 403}),
        *_session(5, 40, app_close=(5, 1000), disconnect=(7, 1006), close_raised=True),
    ]
    closes = SessionCloses()
    for event in reversed(events):  # any order
        closes.take(event)
    expected = {"1000": 1, "1006": 1, "1011": 1, "4000": 1}
    assert closes.counts() == expected
    assert list(closes.counts()) == ["1000", "1006", "1011", "4000"]
    assert summarize(events)["ws_close_codes"] == expected


def test_a_session_the_client_saw_accepted_counts_without_the_servers_events() -> None:
    """Only the client's side was recorded (a server run without the shim): its 101 and
    close code are enough; a client response without a close code counts nothing."""
    events = [
        Event(0, 0, K.CLIENT_RESPONSE, 1, data={"status": 101, "close_code": 4000}),
        Event(1, 0, K.CLIENT_RESPONSE, 2, data={"status": 101, "error": "TimeoutError"}),
        Event(2, 0, K.CLIENT_RESPONSE, 3, data={"status": 200, "bytes": 2}),
    ]
    assert summarize(events)["ws_close_codes"] == {"4000": 1}


def test_an_http_run_has_no_ws_close_codes() -> None:
    """No WebSocket session: the summary has no ``ws_close_codes`` key at all."""
    events = [
        Event(0, 0, K.REQUEST_START, 1, data={"scope_type": "http"}),
        Event(1, MS, K.ASGI_SEND, 1, data={"type": "http.response.start", "status": 200}),
        Event(2, MS, K.ASGI_SEND, 1, data={"type": "http.response.body", "bytes": 2}),
        Event(3, 2 * MS, K.REQUEST_END, 1, data={"status": 200}),
    ]
    assert "ws_close_codes" not in summarize(events)

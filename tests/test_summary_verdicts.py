"""One rule for "completed" and "failed": the summary, the streaming digest and the live
header judge every way a request can end the same (``tracer.summary.RequestSpan``).

Each case is a hand-made recording of one request's events (a lifespan connection's for the
last). The expected ``(completed, errors)`` states the rule; the three readers must all give
it, the digest fed the events in any order, the live header in one batch or one by one.
"""

from __future__ import annotations

from typing import Any

import pytest

from tracer import events as K
from tracer.digest import Digest
from tracer.events import Event
from tracer.summary import summarize
from tracer.tui.live_stats import LiveStats

MS = 1_000_000
HTTP = {"scope_type": "http"}
BODY = {"type": "http.response.body", "bytes": 2, "more_body": False}


def _events(*rows: tuple[int, str, dict[str, Any]]) -> list[Event]:
    """Request 1's events, ``(ms, kind, data)`` each, numbered in order."""
    return [
        Event(seq, t * MS, kind, 1, 1, 1, "w", data=data)
        for seq, (t, kind, data) in enumerate(rows)
    ]


def _served(status: int | None, error: str | None = None) -> list[Event]:
    """Started at 1 ms, ended at 5 ms with ``status`` and ``error`` (in process)."""
    return _events(
        (0, K.REQUEST_QUEUED, {}),
        (1, K.REQUEST_START, HTTP),
        (5, K.REQUEST_END, {"status": status, "error": error}),
    )


def _sent(*server: tuple[int, str, dict[str, Any]], **response: Any) -> list[Event]:
    """A network client's request (sent at 0, its response at 40 ms) and the server's
    events of it, in time order."""
    rows = [
        (0, K.CLIENT_SEND, {"method": "GET", "path": "/"}),
        (0, K.REQUEST_QUEUED, {}),
        *server,
        (40, K.CLIENT_RESPONSE, response),
    ]
    return _events(*sorted(rows, key=lambda row: row[0]))


CASES: dict[str, tuple[list[Event], tuple[int, int]]] = {
    "200": (_served(200), (1, 0)),
    "500": (_served(500), (1, 1)),
    # The app returned without starting a response: the server answers 500 or drops it.
    "no status": (_served(None), (1, 1)),
    "raised, 500": (_served(500, "ValueError"), (1, 1)),
    "raised after its 200 went": (_served(200, "ValueError"), (1, 1)),
    "error event, then a 200 end": (
        _events(
            (1, K.REQUEST_START, HTTP),
            (2, K.ERROR, {"type": "ValueError"}),
            (5, K.REQUEST_END, {"status": 200, "error": None}),
        ),
        (1, 1),
    ),
    "error event after its end": (
        _events(
            (1, K.REQUEST_START, HTTP),
            (5, K.REQUEST_END, {"status": 200, "error": None}),
            (9, K.ERROR, {"type": "RuntimeError"}),
        ),
        (1, 1),
    ),
    "raised and never ended (cut short)": (
        _events((1, K.REQUEST_START, HTTP), (2, K.ERROR, {"type": "ValueError"})),
        (0, 1),
    ),
    "never ended (cut short)": (_events((1, K.REQUEST_START, HTTP)), (0, 0)),
    "the model's client timed out": (_served(None, "timeout"), (1, 1)),
    "cancelled by the run's stop": (_served(None, "cancelled"), (1, 1)),
    "a 500 sent, the app still running": (
        _events(
            (1, K.REQUEST_START, HTTP),
            (2, K.ASGI_SEND, {"type": "http.response.start", "status": 500}),
            (3, K.ASGI_SEND, BODY),
        ),
        (1, 1),
    ),
    "a 200 sent, then the app raised (background task)": (
        _events(
            (1, K.REQUEST_START, HTTP),
            (2, K.ASGI_SEND, {"type": "http.response.start", "status": 200}),
            (3, K.ASGI_SEND, BODY),
            (9, K.REQUEST_END, {"status": 200, "error": "ValueError"}),
        ),
        (1, 1),
    ),
    "client: 200": (
        _sent(
            (1, K.REQUEST_START, HTTP),
            (5, K.REQUEST_END, {"status": 200, "error": None}),
            status=200,
        ),
        (1, 0),
    ),
    "client: refused": (_sent(status=None, error="ConnectionRefusedError"), (1, 1)),
    "client: 503 the app never saw": (_sent(status=503), (1, 1)),
    "client: timed out": (
        _sent((1, K.REQUEST_START, HTTP), status=None, error="TimeoutError"),
        (1, 1),
    ),
    "client: 200, the app raised after it": (
        _sent(
            (1, K.REQUEST_START, HTTP),
            (5, K.REQUEST_END, {"status": 200, "error": "ValueError"}),
            status=200,
        ),
        (1, 1),
    ),
    "client: 500, the app returned no status": (
        _sent(
            (1, K.REQUEST_START, HTTP),
            (5, K.REQUEST_END, {"status": None, "error": None}),
            status=500,
        ),
        (1, 1),
    ),
    "websocket accepted (101)": (
        _events(
            (1, K.REQUEST_START, {"scope_type": "websocket"}),
            (2, K.ASGI_SEND, {"type": "websocket.accept"}),
            (9, K.REQUEST_END, {"status": 101, "error": None}),
        ),
        (1, 0),
    ),
    "websocket closed before accepting (403)": (
        _events(
            (1, K.REQUEST_START, {"scope_type": "websocket"}),
            (2, K.ASGI_SEND, {"type": "websocket.close"}),
            (3, K.REQUEST_END, {"status": 403, "error": None}),
        ),
        (1, 0),
    ),
    "lifespan connection": (
        _events(
            (0, K.REQUEST_START, {"scope_type": "lifespan"}),
            (1, K.ASGI_SEND, {"type": "lifespan.startup.complete"}),
            (9, K.REQUEST_END, {"status": None, "error": None}),
        ),
        (0, 0),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_summary_digest_and_live_header_agree(name: str) -> None:
    """``completed`` and ``errors`` are the rule's, whichever reader counts them."""
    events, expected = CASES[name]
    summary = summarize(events)
    assert (summary["completed"], summary["errors"]) == expected, "summary"
    digest = Digest()
    digest.feed(reversed(events))  # any order
    assert (digest.summary()["completed"], digest.summary()["errors"]) == expected, "digest"
    together = LiveStats()
    together.feed(events, now=100 * MS)
    snapshot = together.snapshot()
    assert (snapshot.completed, snapshot.errors) == expected, "live, one batch"
    one_by_one = LiveStats()
    for event in events:
        one_by_one.feed([event], now=event.end)
    snapshot = one_by_one.snapshot()
    assert (snapshot.completed, snapshot.errors) == expected, "live, event by event"

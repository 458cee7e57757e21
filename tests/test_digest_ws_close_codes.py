"""The digest (what ``trace run`` and ``trace summary`` report from) counts WebSocket sessions
per close code as ``summarize`` does from the whole recording, and the report shows them."""

from __future__ import annotations

import io
import random

from rich.console import Console

from tracer import events as K
from tracer.digest import Digest
from tracer.events import Event
from tracer.recording import Recording, make_header
from tracer.report import print_report
from tracer.summary import summarize


def _session(seq: list[int], req: int, t: int, code: int, *, client: int | None) -> list[Event]:
    """One accepted session: connect, accept, the app's close with ``code`` and, on a real
    server, the client's response with the code that came over the wire."""

    def event(kind: str, data: dict[str, object], dt: int) -> Event:
        seq[0] += 1
        return Event(seq[0], t + dt, kind, req, 1, 1, "MainThread", data=data)

    events = [
        event(K.REQUEST_START, {"method": "GET", "path": "/ws", "scope_type": "websocket"}, 0),
        event(K.ASGI_RECEIVE, {"type": "websocket.connect"}, 1),
        event(K.ASGI_SEND, {"type": "websocket.accept"}, 2),
        event(K.ASGI_SEND, {"type": "websocket.close", "code": code}, 3),
        event(K.REQUEST_END, {"status": 101, "bytes_in": 0, "bytes_out": 0, "error": None}, 4),
    ]
    if client is not None:
        data = {"status": 101, "ttfb_ns": 1, "total_ns": 5, "bytes": 0, "close_code": client}
        events.append(event(K.CLIENT_RESPONSE, data, 5))
    return events


def test_the_digest_counts_close_codes_as_summarize_does_and_the_report_shows_them() -> None:
    seq = [0]
    events: list[Event] = []
    for req in range(1, 41):
        code = 4000 if req % 8 == 0 else 1000
        # Half the sessions have a client that saw the server change 1000 into 1001.
        client = (1001 if code == 1000 else code) if req % 2 else None
        events += _session(seq, req, req * 10, code, client=client)
    expected = summarize(events)["ws_close_codes"]
    assert expected == {"1000": 15, "1001": 20, "4000": 5}
    shuffled = list(events)
    random.Random(7).shuffle(shuffled)
    digest = Digest()
    for start in range(0, len(shuffled), 13):
        digest.feed(shuffled[start : start + 13])
    summary = digest.summary()
    assert summary["ws_close_codes"] == expected
    out = io.StringIO()
    recording = Recording(header=make_header(source="real"), events=[])
    console = Console(file=out, width=200, color_system=None)
    print_report(recording, summary, console=console, details=digest.details())
    assert "1000 ×15, 1001 ×20, 4000 ×5" in out.getvalue()

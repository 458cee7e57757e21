"""What a request's app does after the request ended for its client (abandoned work), when
those events come while the request is still held for its client's answer: they are kept
as those coming after it was emitted are (bounded, the rest counted), and export the same
spans over the OTLP wire."""

from __future__ import annotations

from typing import Any

import pytest
from otel_recordings import LOOP, LOOP_TID, UNIX_NS, label, recorder, start_data

from tracer import events as K
from tracer.cli import main
from tracer.events import Event
from tracer.otel.sink import make_sink
from tracer.otel.spans import ABANDONED, SpanModel
from tracer.otel.testing import OtlpHttpReceiver, memory_provider
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(30)

SERVER = 4242
"""The serving process; the load generator is this one (``Recorder.emit``'s pid)."""

STAND_IN = {"status": None, "bytes_in": 0, "bytes_out": 0, "error": "timeout"}
APP_END = {"status": 200, "bytes_in": 0, "bytes_out": 5, "error": None}
GAVE_UP = {"status": None, "error": "TimeoutError", "message": "no response within 1 ms"}


def _server(rec: Recorder, req: int, t: int, kind: str, data: dict[str, Any]) -> None:
    rec.add(Event(0, t, kind, req, pid=SERVER, tid=LOOP_TID, thread=LOOP, data=data))


def _sends(rec: Recorder, req: int, base: int, count: int) -> None:
    for i in range(count):
        body = {"type": "http.response.body", "bytes": 1, "more_body": True}
        _server(rec, req, base + 1000 + 10 * i, K.ASGI_SEND, body)


def _timed_out(rec: Recorder, req: int, base: int, *, sends: int, answer_first: bool) -> None:
    """A request whose client gave up at base+900 (the load generator's stand-in end), then
    ``sends`` body messages of its app and the app's own end at base+2000; the client's
    answer before those (``answer_first``: the request is emitted at once) or after them
    (the request is held until base+2500)."""
    rec.emit(K.CLIENT_SEND, req, {"method": "GET", "path": "/slow", "bytes": 0}, t=base, tid=1)
    rec.emit(K.REQUEST_QUEUED, req, {"method": "GET", "path": "/slow"}, t=base, tid=1)
    _server(rec, req, base + 300, K.REQUEST_START, start_data(path="/slow"))
    rec.emit(K.REQUEST_END, req, STAND_IN, t=base + 900, tid=1)
    answer_at = base + (950 if answer_first else 2500)
    rec.emit(K.CLIENT_RESPONSE, req, GAVE_UP, t=answer_at, tid=1)
    _sends(rec, req, base, sends)
    _server(rec, req, base + 2000, K.REQUEST_END, APP_END)


def _abandoned(rec: Recorder, *, max_events: int = 1_000) -> Any:
    provider, exporter = memory_provider()
    model = SpanModel(make_sink(provider), base_ns=UNIX_NS, max_events=max_events)
    model.feed(rec.recording().events)
    assert model.open_requests == 0
    (span,) = [s for s in exporter.get_finished_spans() if s.name == ABANDONED]
    return span


@pytest.mark.parametrize("answer_first", [True, False], ids=["emitted", "held"])
def test_late_work_keeps_at_most_max_events_and_counts_the_rest(answer_first: bool) -> None:
    """Five late sends, three kept: the abandoned work has three events and says two were
    dropped, whether the sends came after the request was emitted or while it was held for
    its client's answer (held, they were dropped without a count); its dropped events count
    says so too (span events lost)."""
    rec = recorder()
    _timed_out(rec, 1, 0, sends=5, answer_first=answer_first)
    span = _abandoned(rec, max_events=3)
    assert [e.timestamp - UNIX_NS for e in span.events] == [1000, 1010, 1020]
    assert span.attributes["tracer.dropped_events"] == 2
    assert span.dropped_events == 2
    assert (span.start_time - UNIX_NS, span.end_time - UNIX_NS) == (900, 2000)


def test_held_and_emitted_late_work_are_the_same_span() -> None:
    """Under the bound, the abandoned work of a held request is the one it has when emitted
    first: same events, times and attributes."""
    spans = []
    for answer_first in (True, False):
        rec = recorder()
        _timed_out(rec, 1, 0, sends=2, answer_first=answer_first)
        spans.append(_abandoned(rec))
    emitted, held = spans
    assert [(e.name, e.timestamp) for e in held.events] == [
        (e.name, e.timestamp) for e in emitted.events
    ]
    assert dict(held.attributes) == dict(emitted.attributes)
    assert "tracer.dropped_events" not in held.attributes


def _wire_recording(path: str) -> None:
    """Three timed-out requests, their late events all held: (1) sends, a second stand-in end,
    the app's end, then a send after it; (2) a send held, the rest after the answer; (3)
    late work its app never ends (not shown)."""
    rec = recorder()
    for req, base in ((1, 0), (2, 10_000), (3, 20_000)):
        rec.emit(K.CLIENT_SEND, req, {"method": "GET", "path": "/slow", "bytes": 0}, t=base, tid=1)
        rec.emit(K.REQUEST_QUEUED, req, {"method": "GET", "path": "/slow"}, t=base, tid=1)
        _server(rec, req, base + 300, K.REQUEST_START, start_data(path="/slow"))
        rec.emit(K.REQUEST_END, req, STAND_IN, t=base + 900, tid=1)
        _server(rec, req, base + 1000, K.ASGI_SEND, {"type": "http.response.start", "status": 200})
        body = {"type": "http.response.body", "bytes": 5, "more_body": False}
        if req == 1:
            _server(rec, req, base + 1100, K.ASGI_SEND, body)
            rec.emit(K.REQUEST_END, req, STAND_IN, t=base + 1150, tid=1)
            _server(rec, req, base + 1200, K.REQUEST_END, APP_END)
            _server(rec, req, base + 1250, K.ASGI_SEND, body)
            rec.emit(K.CLIENT_RESPONSE, req, GAVE_UP, t=base + 1300, tid=1)
        elif req == 2:
            rec.emit(K.CLIENT_RESPONSE, req, GAVE_UP, t=base + 1050, tid=1)
            _server(rec, req, base + 1100, K.ASGI_SEND, body)
            _server(rec, req, base + 1200, K.REQUEST_END, APP_END)
        else:
            rec.emit(K.CLIENT_RESPONSE, req, GAVE_UP, t=base + 1050, tid=1)
    rec.save(path)


def test_held_late_events_export_as_abandoned_work_over_the_wire(
    tmp_path: Any, monkeypatch: Any
) -> None:
    """``trace export --to otlp``, decoded as a collector gets it: each request span ends at
    the client's timeout; requests 1 and 2 have their abandoned work from there to the app's
    end, with the app's sends (none after that end); request 3's is never shown."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    path = str(tmp_path / "late.jsonl")
    _wire_recording(path)
    with OtlpHttpReceiver() as receiver:
        assert main(["export", path, "--to", "otlp", "--otlp-endpoint", receiver.endpoint]) == 0
        spans = receiver.spans()
    by_id = {s.span_id: s for s in spans}
    servers = sorted(
        (s for s in spans if s.kind == s.SPAN_KIND_SERVER), key=lambda s: s.start_time_unix_nano
    )
    assert [
        (s.start_time_unix_nano - UNIX_NS, s.end_time_unix_nano - UNIX_NS) for s in servers
    ] == [
        (0, 900),
        (10_000, 10_900),
        (20_000, 20_900),
    ]
    abandoned = sorted(
        (s for s in spans if s.name == ABANDONED), key=lambda s: s.start_time_unix_nano
    )
    assert [by_id[s.parent_span_id] for s in abandoned] == servers[:2]
    assert [
        (
            s.start_time_unix_nano - UNIX_NS,
            s.end_time_unix_nano - UNIX_NS,
            [(e.name, e.time_unix_nano - UNIX_NS) for e in s.events],
        )
        for s in abandoned
    ] == [
        (
            900,
            1200,
            [("asgi.send http.response.start", 1000), ("asgi.send http.response.body", 1100)],
        ),
        (
            10_900,
            11_200,
            [("asgi.send http.response.start", 11_000), ("asgi.send http.response.body", 11_100)],
        ),
    ]
    assert sorted(label(s) for s in spans) == sorted(
        ["GET /slow"] * 3 + ["queued"] * 3 + [ABANDONED] * 2
    )

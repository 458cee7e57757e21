"""A span's events within the SDK's span event limit (``OTEL_SPAN_EVENT_COUNT_LIMIT``, 128 by
default), its dropped events count saying how many it lost: a websocket session of 1,000
messages on the OTLP wire, live (``trace run --otlp``) and after the fact (``trace export``).

The count is the span events left out, both those past the limit and those of the recorded
events the span model did not keep (past its 1,000 per request) that would have been span
events; a coroutine step it did not keep is no span event, and counts only in
``tracer.dropped_events``, as does a protocol call made a child span (``--otel-detail
spans``)."""

from __future__ import annotations

from typing import Any

import pytest
from otel_recordings import LOOP, LOOP_TID, UNIX_NS, recorder, start_data

import tracer
from tracer import events as K
from tracer.cli import main
from tracer.otel.sink import make_sink
from tracer.otel.spans import SpanModel
from tracer.otel.testing import OtlpHttpReceiver, memory_provider

pytestmark = pytest.mark.timeout(60)

MESSAGES = 1000


@pytest.fixture(scope="module")
def websocket_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[Any]]:
    """One websocket session of ``MESSAGES`` echoed messages, run with ``--otlp``: the
    recording's path and the spans the collector received."""
    mp = pytest.MonkeyPatch()
    mp.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    mp.delenv("OTEL_SPAN_EVENT_COUNT_LIMIT", raising=False)
    record = str(tmp_path_factory.mktemp("ws") / "ws.jsonl")
    try:
        with OtlpHttpReceiver() as receiver:
            code = main(
                ["run", "sample_apps.websocket:app", "-n", "1", "--ws-messages", str(MESSAGES),
                 "--json", "--record", record, "--otlp-endpoint", receiver.endpoint]
            )  # fmt: skip
            spans = receiver.spans()
    finally:
        mp.undo()
    assert code == 0
    return record, spans


def _session(spans: list[Any]) -> Any:
    (span,) = [s for s in spans if s.kind == s.SPAN_KIND_SERVER]
    return span


def _span_events(record: str) -> int:
    """The span events the session's events make: each protocol call and loop block."""
    made = (K.ASGI_RECEIVE, K.ASGI_SEND, K.LOOP_BLOCKED)
    recording = tracer.load(record)
    (req,) = {
        e.req for e in recording.events if e.kind == K.ASGI_SEND and "websocket" in str(e.data)
    }
    return sum(1 for e in recording.events if e.req == req and e.kind in made)


def test_a_live_session_keeps_the_first_128_events_and_counts_every_one_it_lost(
    websocket_run: tuple[str, list[Any]],
) -> None:
    record, spans = websocket_run
    session = _session(spans)
    made = _span_events(record)
    assert made > 2 * MESSAGES  # a receive and a send each, the connect and accept...
    assert len(session.events) == 128
    assert session.dropped_events_count == made - 128
    names = [event.name for event in session.events]
    assert names[:3] == [
        "asgi.receive websocket.connect",
        "asgi.send websocket.accept",
        "asgi.receive websocket.receive",
    ]
    times = [event.time_unix_nano for event in session.events]
    assert times == sorted(times)
    attributes = {a.key: a.value.int_value for a in session.attributes}
    assert attributes["tracer.dropped_events"] > 0  # the recorded events not kept, steps too


@pytest.mark.parametrize("detail", ["events", "spans"])
def test_an_export_applies_the_limit_the_environment_sets(
    websocket_run: tuple[str, list[Any]], detail: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``OTEL_SPAN_EVENT_COUNT_LIMIT=10``: ten events, the rest counted; with ``--otel-detail
    spans`` the same, a websocket session's messages staying events."""
    record, _ = websocket_run
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    monkeypatch.setenv("OTEL_SPAN_EVENT_COUNT_LIMIT", "10")
    with OtlpHttpReceiver() as receiver:
        code = main(
            ["export", record, "--to", "otlp", "--otel-detail", detail,
             "--otlp-endpoint", receiver.endpoint]
        )  # fmt: skip
        spans = receiver.spans()
    assert code == 0
    session = _session(spans)
    assert len(session.events) == 10
    assert session.dropped_events_count == _span_events(record) - 10


def _sends(count: int) -> Any:
    """One HTTP request making ``count`` body sends and a coroutine step after each."""
    rec = recorder()
    on_loop = {"tid": LOOP_TID, "thread": LOOP}
    rec.emit(K.REQUEST_START, 1, start_data(), t=100, **on_loop)
    rec.emit(K.ASGI_SEND, 1, {"type": "http.response.start", "status": 200}, t=110, **on_loop)
    for i in range(count):
        t = 200 + 10 * i
        body = {"type": "http.response.body", "bytes": 1, "more_body": True}
        rec.emit(K.ASGI_SEND, 1, body, t=t, dur=1, **on_loop)
        rec.emit(K.SCHED_STEP, 1, {"cpu_ns": 1}, t=t + 2, dur=1, **on_loop)
    rec.emit(K.REQUEST_END, 1, {"status": 200}, t=200 + 10 * count, **on_loop)
    return rec.recording().events


@pytest.mark.parametrize(("detail", "lost"), [("events", 7), ("spans", 0)])
def test_only_the_events_not_kept_that_would_be_span_events_are_counted(
    detail: str, lost: int
) -> None:
    """A span model keeping 6 events of a request's 21 (a response start, then ten sends each
    followed by a step): the 15 not kept are 7 sends and 8 steps. As span events, the 7 sends
    are lost; as child spans (``spans``), no event is; a step is never one."""
    provider, exporter = memory_provider()
    model = SpanModel(make_sink(provider), base_ns=UNIX_NS, detail=detail, max_events=6)
    model.feed(_sends(10))
    (span,) = [s for s in exporter.get_finished_spans() if s.name == "GET"]
    assert span.attributes["tracer.dropped_events"] == 15
    assert span.dropped_events == lost
    if detail == "events":
        assert [e.attributes["asgi.event.type"] for e in span.events] == [
            "http.response.start",
            *["http.response.body"] * 3,
        ]

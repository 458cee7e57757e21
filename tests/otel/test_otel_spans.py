"""The span model over hand-built recordings: names, kinds, attributes, times, structure."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.trace import SpanKind, StatusCode
from otel_recordings import LOOP, LOOP_TID, UNIX_NS, asgi_request, label, recorder, start_data

from tracer import events as K
from tracer.errors import UsageError
from tracer.events import Event
from tracer.otel.sink import make_sink
from tracer.otel.spans import SpanModel
from tracer.otel.testing import memory_provider
from tracer.recorder import Recorder


def spans_of(rec: Recorder, detail: str = "events", finish: bool = False) -> list[Any]:
    provider, exporter = memory_provider()
    model = SpanModel(make_sink(provider), base_ns=UNIX_NS, detail=detail)
    model.feed(rec.recording().events)
    if finish:
        model.finish_all()
    return list(exporter.get_finished_spans())


def by_name(spans: list[Any], name: str) -> Any:
    """The one span named ``name``, or the request span of that method and path (``label``)."""
    (span,) = [span for span in spans if label(span) == name]
    return span


def test_one_request_is_a_server_span_with_http_semantic_conventions() -> None:
    """GET /items becomes one SERVER span from arrival to end, wall-clock times, semconv attrs."""
    rec = recorder()
    asgi_request(rec, 1, 1_000)
    spans = spans_of(rec)
    server = by_name(spans, "GET /items")
    assert server.kind is SpanKind.SERVER
    assert server.parent is None
    assert (server.start_time, server.end_time) == (UNIX_NS + 1_000, UNIX_NS + 2_000)
    attrs = dict(server.attributes)
    assert {
        k: attrs[k]
        for k in (
            "http.request.method",
            "url.path",
            "url.query",
            "url.scheme",
            "network.protocol.version",
            "server.address",
            "server.port",
            "client.address",
            "user_agent.original",
            "http.response.status_code",
            "thread.id",
            "thread.name",
        )
    } == {
        "http.request.method": "GET",
        "url.path": "/items",
        "url.query": "page=2&token=[redacted]",
        "url.scheme": "http",
        "network.protocol.version": "1.1",
        "server.address": "127.0.0.1",
        "server.port": 8000,
        "client.address": "127.0.0.1",
        "user_agent.original": "pytest-client/1.0",
        "http.response.status_code": 200,
        "thread.id": LOOP_TID,
        "thread.name": LOOP,
    }
    assert "error.type" not in attrs
    assert attrs["tracer.steps"] == 2 and attrs["tracer.loop_ns"] == 600
    assert attrs["tracer.cpu_ns"] == 450 and attrs["tracer.queued_ns"] == 100
    assert server.status.status_code is StatusCode.UNSET


def test_protocol_messages_are_span_events_in_time_order_by_default() -> None:
    """detail=events: one event per receive/send at its own time, with its data."""
    rec = recorder()
    asgi_request(rec, 1, 1_000)
    spans = spans_of(rec)
    assert sorted(span.name for span in spans) == ["GET", "queued"]
    server = by_name(spans, "GET /items")
    assert [(e.name, e.timestamp - UNIX_NS) for e in server.events] == [
        ("asgi.receive http.request", 1_110),
        ("asgi.send http.response.start", 1_600),
        ("asgi.send http.response.body", 1_700),
    ]
    body = server.events[-1]
    assert dict(body.attributes) == {
        "asgi.event.type": "http.response.body",
        "tracer.bytes": 13,
        "tracer.more_body": False,
        "tracer.dur_ns": 250,
    }


def test_coroutine_steps_are_summed_and_the_longest_is_named() -> None:
    """detail=events: steps are totals plus the longest step's length and location."""
    rec = recorder()
    asgi_request(rec, 1, 1_000)
    rec.emit(K.REQUEST_START, 2, start_data(), t=5_000, tid=LOOP_TID)
    rec.emit(
        K.SCHED_STEP, 2, {"cpu_ns": 5, "location": "views.py:7"}, t=5_000, dur=90, tid=LOOP_TID
    )
    rec.emit(
        K.SCHED_STEP, 2, {"cpu_ns": 5, "location": "views.py:9"}, t=5_100, dur=900, tid=LOOP_TID
    )
    rec.emit(K.REQUEST_END, 2, {"status": 200}, t=6_100, tid=LOOP_TID)
    spans = [s for s in spans_of(rec) if label(s) == "GET /items"]
    first, second = sorted(spans, key=lambda span: span.start_time)
    assert first.attributes["tracer.longest_step_ns"] == 400
    assert "tracer.longest_step_at" not in first.attributes  # that step recorded no location
    assert second.attributes["tracer.longest_step_ns"] == 900
    assert second.attributes["tracer.longest_step_at"] == "views.py:9"
    assert (second.attributes["tracer.steps"], second.attributes["tracer.loop_ns"]) == (2, 990)
    assert not any(e.name == K.SCHED_STEP for e in first.events)


def test_detail_spans_makes_child_spans_and_the_send_span_covers_await_send() -> None:
    """detail=spans: children of the server span; a send span lasts exactly its time in send()."""
    rec = recorder()
    asgi_request(rec, 1, 1_000)
    spans = spans_of(rec, "spans")
    server = by_name(spans, "GET /items")
    children = [span for span in spans if span is not server]
    assert all(span.parent.span_id == server.context.span_id for span in children)
    assert all(span.context.trace_id == server.context.trace_id for span in children)
    assert all(span.kind is SpanKind.INTERNAL for span in children)
    assert sorted(span.name for span in children) == sorted(
        [
            "queued",
            K.SCHED_STEP,
            K.SCHED_STEP,
            "asgi.receive http.request",
            "asgi.send http.response.start",
            "asgi.send http.response.body",
        ]
    )
    body = by_name(spans, "asgi.send http.response.body")
    assert (body.start_time - UNIX_NS, body.end_time - UNIX_NS) == (1_700, 1_950)
    queued = by_name(spans, "queued")
    assert (queued.start_time - UNIX_NS, queued.end_time - UNIX_NS) == (1_000, 1_100)
    first_step = min((s for s in spans if s.name == K.SCHED_STEP), key=lambda s: s.start_time)
    assert first_step.attributes["tracer.awaiting"] == "asyncio.sleep"
    assert first_step.attributes["code.file.path"] == "app.py"
    assert first_step.attributes["code.line.number"] == 12
    assert [e.name for e in server.events] == []


def test_thread_hop_is_a_child_span_on_its_thread() -> None:
    """sched.thread becomes ``thread <name>`` with thread.id/name and how the hop was made."""
    rec = recorder()
    rec.emit(K.REQUEST_START, 1, start_data(), t=0, tid=LOOP_TID, thread=LOOP)
    rec.emit(
        K.SCHED_THREAD,
        1,
        {"cpu_ns": 70, "via": "to_thread"},
        t=100,
        dur=400,
        tid=22,
        thread="asyncio_0",
    )
    rec.emit(K.REQUEST_END, 1, {"status": 200}, t=600, tid=LOOP_TID, thread=LOOP)
    spans = spans_of(rec)
    hop = by_name(spans, "thread asyncio_0")
    assert dict(hop.attributes) == {
        "thread.id": 22,
        "thread.name": "asyncio_0",
        "tracer.via": "to_thread",
        "tracer.cpu_ns": 70,
        "tracer.dur_ns": 400,
    }
    assert (hop.start_time - UNIX_NS, hop.end_time - UNIX_NS) == (100, 500)
    assert hop.parent.span_id == by_name(spans, "GET /items").context.span_id


def test_loop_blocked_is_an_event_on_the_culprit_and_a_link_from_each_delayed_request() -> None:
    """The blocking request carries ``loop.blocked``; the ones it delayed link to its span."""
    rec = recorder()
    rec.emit(K.REQUEST_START, 1, start_data(path="/slow"), t=0, tid=LOOP_TID, thread=LOOP)
    rec.emit(K.REQUEST_START, 2, start_data(path="/fast"), t=10, tid=LOOP_TID, thread=LOOP)
    rec.emit(K.REQUEST_START, 3, start_data(path="/other"), t=20, tid=LOOP_TID, thread=LOOP)
    rec.emit(
        K.LOOP_BLOCKED,
        1,
        {"location": "app.py:40", "delayed": [2]},
        t=30,
        dur=50_000_000,
        tid=LOOP_TID,
        thread=LOOP,
    )
    for req in (2, 3, 1):  # the delayed request ends before the culprit does
        rec.emit(K.REQUEST_END, req, {"status": 200}, t=60_000_000 + req, tid=LOOP_TID)
    spans = spans_of(rec)
    slow, fast, other = (by_name(spans, f"GET /{p}") for p in ("slow", "fast", "other"))
    (blocked,) = slow.events
    assert blocked.name == K.LOOP_BLOCKED
    assert dict(blocked.attributes) == {
        "tracer.dur_ns": 50_000_000,
        "tracer.delayed": 1,
        "code.file.path": "app.py",
        "code.line.number": 40,
    }
    assert [link.context.span_id for link in fast.links] == [slow.context.span_id]
    assert [e.name for e in fast.events] == ["loop.delayed"]
    assert fast.events[0].attributes["tracer.culprit"] == 1
    assert list(other.links) == [] and list(other.events) == []


def test_a_block_whose_delayed_list_is_a_lower_bound_says_so() -> None:
    """On uvloop a block's ``delayed`` misses timer wake-ups (``delayed_complete: false``):
    the span event carries that, so its count reads as at least that many."""
    rec = recorder()
    rec.emit(K.REQUEST_START, 1, start_data(path="/slow"), t=0, tid=LOOP_TID, thread=LOOP)
    data = {"location": "app.py:40", "delayed": [], "delayed_complete": False}
    rec.emit(K.LOOP_BLOCKED, 1, data, t=30, dur=50_000_000, tid=LOOP_TID, thread=LOOP)
    rec.emit(K.REQUEST_END, 1, {"status": 200}, t=60_000_000, tid=LOOP_TID)
    (blocked,) = by_name(spans_of(rec), "GET /slow").events
    assert blocked.attributes["tracer.delayed"] == 0
    assert blocked.attributes["tracer.delayed_complete"] is False


def test_requests_a_block_kept_from_starting_link_to_it_too() -> None:
    """Two more ways of being delayed: named in ``delayed`` before arriving (the simulator
    lists arrivals during the block), and still queued while the block held the loop the
    request then started on (the shim cannot name it; the recording shows it). Both link."""
    rec = recorder()
    rec.emit(K.REQUEST_START, 1, start_data(path="/slow"), t=0, tid=LOOP_TID, thread=LOOP)
    rec.emit(
        K.LOOP_BLOCKED,
        1,
        {"location": "app.py:40", "delayed": [2]},
        t=10,
        dur=50_000_000,
        tid=LOOP_TID,
        thread=LOOP,
    )
    for req, path in ((2, "/named"), (3, "/queued")):
        rec.emit(K.REQUEST_QUEUED, req, {"method": "GET", "path": path}, t=20_000_000 + req)
    rec.emit(K.REQUEST_END, 1, {"status": 200}, t=50_000_011, tid=LOOP_TID)
    for req, path in ((2, "/named"), (3, "/queued")):
        rec.emit(K.REQUEST_START, req, start_data(path=path), t=50_000_020 + req, tid=LOOP_TID)
        rec.emit(K.REQUEST_END, req, {"status": 200}, t=50_000_040 + req, tid=LOOP_TID)
    # A request queued after the block ended was not delayed by it.
    rec.emit(K.REQUEST_QUEUED, 4, {"method": "GET", "path": "/late"}, t=60_000_000)
    rec.emit(K.REQUEST_START, 4, start_data(path="/late"), t=60_000_001, tid=LOOP_TID)
    rec.emit(K.REQUEST_END, 4, {"status": 200}, t=60_000_002, tid=LOOP_TID)
    spans = spans_of(rec)
    slow = by_name(spans, "GET /slow")
    for path in ("named", "queued"):
        span = by_name(spans, f"GET /{path}")
        assert [link.context.span_id for link in span.links] == [slow.context.span_id], path
        assert [e.name for e in span.events] == ["loop.delayed"]
        # Arrived during the block: the event is at the span's start, not before it.
        assert span.events[0].timestamp == span.start_time, path
    assert list(by_name(spans, "GET /late").links) == []


def test_an_exception_is_recorded_on_the_span_and_sets_error_status() -> None:
    """An ``error`` event becomes an ``exception`` event, error.type, and status ERROR."""
    rec = recorder()
    rec.emit(K.REQUEST_START, 1, start_data(), t=0, tid=LOOP_TID, thread=LOOP)
    rec.emit(K.ERROR, 1, {"type": "ValueError", "message": "boom", "where": "app.py:9"}, t=50)
    rec.emit(K.REQUEST_END, 1, {"status": 500, "error": "ValueError"}, t=60)
    (span,) = spans_of(rec)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ValueError: boom"
    assert span.attributes["error.type"] == "ValueError"
    (event,) = span.events
    assert event.name == "exception"
    assert (event.attributes["exception.type"], event.attributes["exception.message"]) == (
        "ValueError",
        "boom",
    )


def test_a_5xx_without_exception_is_an_error_typed_by_status() -> None:
    """Stable semconv: a 5xx server response sets error.type to the status code."""
    rec = recorder()
    asgi_request(rec, 1, 0, status=503, queued=False)
    (span,) = spans_of(rec)
    assert span.attributes["error.type"] == "503"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description is None  # the status code says why (HTTP conventions)


def test_a_websocket_session_is_one_span_with_message_events_even_with_detail_spans() -> None:
    """A websocket is one long span (WEBSOCKET path) carrying each message as an event."""
    rec = recorder()
    rec.emit(
        K.REQUEST_START,
        1,
        start_data(path="/ws", scope_type="websocket", scheme="ws"),
        t=0,
        tid=LOOP_TID,
        thread=LOOP,
    )
    messages = [
        (K.ASGI_RECEIVE, "websocket.connect"),
        (K.ASGI_SEND, "websocket.accept"),
        (K.ASGI_RECEIVE, "websocket.receive"),
        (K.ASGI_SEND, "websocket.send"),
        (K.ASGI_RECEIVE, "websocket.disconnect"),
    ]
    for i, (kind, message_type) in enumerate(messages):
        rec.emit(kind, 1, {"type": message_type}, t=100 * (i + 1), dur=10, tid=LOOP_TID)
    rec.emit(K.REQUEST_END, 1, {"status": None}, t=1_000, tid=LOOP_TID)
    (span,) = spans_of(rec, "spans")
    assert span.name == "GET" and span.kind is SpanKind.SERVER
    assert [e.name for e in span.events] == [f"{k} {m}" for k, m in messages]
    assert span.attributes["http.request.method"] == "GET"  # the upgrade request


def test_lifespan_startup_and_shutdown_are_spans_emitted_as_each_phase_completes() -> None:
    """Startup is emitted when it completes (not at shutdown); a failed phase is an error."""
    rec = recorder()
    rec.emit(K.REQUEST_START, 1, {"scope_type": "lifespan", "interface": "asgi"}, t=0, tid=1)
    rec.emit(K.ASGI_RECEIVE, 1, {"type": "lifespan.startup"}, t=10, dur=5, tid=1)
    rec.emit(K.ASGI_SEND, 1, {"type": "lifespan.startup.complete"}, t=200, dur=5, tid=1)
    provider, exporter = memory_provider()
    model = SpanModel(make_sink(provider), base_ns=UNIX_NS)
    model.feed(rec.recording().events)
    (startup,) = exporter.get_finished_spans()
    assert startup.name == "lifespan startup"
    assert (startup.start_time - UNIX_NS, startup.end_time - UNIX_NS) == (15, 205)
    later = recorder()
    later.emit(K.ASGI_RECEIVE, 1, {"type": "lifespan.shutdown"}, t=1_000, dur=5, tid=1)
    later.emit(
        K.ASGI_SEND,
        1,
        {"type": "lifespan.shutdown.failed", "message": "db gone"},
        t=1_100,
        dur=5,
        tid=1,
    )
    later.emit(K.REQUEST_END, 1, {"status": None}, t=1_200, tid=1)
    model.feed(later.recording().events)
    shutdown = exporter.get_finished_spans()[-1]
    assert shutdown.name == "lifespan shutdown"
    assert shutdown.status.status_code is StatusCode.ERROR
    assert shutdown.status.description == "db gone"
    assert len(exporter.get_finished_spans()) == 2


def test_an_incoming_traceparent_continues_the_callers_trace() -> None:
    """W3C trace context in the request headers makes the server span a child of the caller."""
    rec = recorder()
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    headers = [["host", "a"], ["traceparent", parent]]
    rec.emit(K.REQUEST_START, 1, start_data(headers=headers), t=0, tid=LOOP_TID)
    rec.emit(K.REQUEST_END, 1, {"status": 200}, t=10, tid=LOOP_TID)
    (span,) = spans_of(rec)
    assert format(span.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    assert format(span.parent.span_id, "016x") == "b7ad6b7169203331"
    assert span.parent.is_remote


def test_requests_that_never_end_are_bounded_and_emitted_incomplete() -> None:
    """Past max_open the oldest open request is emitted (tracer.incomplete); state stays bounded."""
    rec = recorder()
    for req in range(1, 8):
        rec.emit(K.REQUEST_START, req, start_data(path=f"/{req}"), t=req * 10, tid=LOOP_TID)
    provider, exporter = memory_provider()
    model = SpanModel(make_sink(provider), base_ns=UNIX_NS, max_open=3)
    model.feed(rec.recording().events)
    assert model.open_requests == 3
    assert [label(s) for s in exporter.get_finished_spans()] == [f"GET /{n}" for n in (1, 2, 3, 4)]
    assert all(s.attributes["tracer.incomplete"] for s in exporter.get_finished_spans())
    model.finish_all()
    assert model.open_requests == 0
    assert len(exporter.get_finished_spans()) == 7


def test_events_after_a_request_ended_do_not_resurrect_it() -> None:
    """A late event for a finished request is ignored: no second span, no leaked state."""
    rec = recorder()
    asgi_request(rec, 1, 0)
    rec.emit(K.VIOLATION, 1, {"rule": "late", "message": "after end"}, t=5_000, tid=LOOP_TID)
    provider, exporter = memory_provider()
    model = SpanModel(make_sink(provider), base_ns=UNIX_NS)
    model.feed(rec.recording().events)
    assert model.open_requests == 0
    assert len(exporter.get_finished_spans()) == 2  # the request and its queued child


def test_violations_become_span_events() -> None:
    """A protocol violation during the request is an event naming the rule."""
    rec = recorder()
    rec.emit(K.REQUEST_START, 1, start_data(), t=0, tid=LOOP_TID)
    rec.emit(
        K.VIOLATION,
        1,
        {
            "rule": "HTTP-001",
            "message": "body before start",
            "severity": "error",
            "hint": "send http.response.start first",
            "location": "app.py:12",
        },
        t=5,
    )
    rec.emit(K.REQUEST_END, 1, {"status": 500}, t=10, tid=LOOP_TID)
    (span,) = spans_of(rec)
    assert [(e.name, e.attributes["tracer.rule"]) for e in span.events] == [
        (K.VIOLATION, "HTTP-001")
    ]
    attributes = span.events[0].attributes
    assert attributes["tracer.severity"] == "error"
    assert attributes["tracer.hint"] == "send http.response.start first"
    assert attributes["tracer.location"] == "app.py:12"


def test_unknown_detail_is_a_usage_error() -> None:
    """Only ``events`` and ``spans`` are accepted, with a message listing them."""
    provider, _ = memory_provider()
    with pytest.raises(UsageError, match="events, spans"):
        SpanModel(make_sink(provider), base_ns=0, detail="everything")


def test_a_malformed_request_is_skipped_and_the_others_still_export() -> None:
    """Bad data in one request (a non-mapping data) costs that request only."""
    rec = recorder()
    asgi_request(rec, 1, 0)
    rec.emit(K.REQUEST_START, 2, start_data(path="/bad", headers=42), t=50, tid=LOOP_TID)
    rec.emit(K.REQUEST_END, 2, {"status": 200}, t=60, tid=LOOP_TID)
    asgi_request(rec, 3, 100, path="/after")
    provider, exporter = memory_provider()
    model = SpanModel(make_sink(provider), base_ns=UNIX_NS)
    model.feed(rec.recording().events)
    names = {label(span) for span in exporter.get_finished_spans()}
    assert names == {"GET /items", "GET /after", "queued"}
    assert model.failures == 1 and model.open_requests == 0


def test_a_request_recorded_by_two_processes_is_one_span() -> None:
    """Client events from the load generator and server events from a worker share the id."""
    rec = recorder()
    rec.emit(K.REQUEST_QUEUED, 1, {"method": "GET", "path": "/items"}, t=0, tid=1)
    rec.emit(K.CLIENT_SEND, 1, {"method": "GET", "path": "/items"}, t=0, tid=1)
    rec.add(
        Event(
            seq=0,
            t=300,
            kind=K.REQUEST_START,
            req=1,
            pid=4242,
            tid=LOOP_TID,
            thread=LOOP,
            data=start_data(),
        )
    )
    rec.add(
        Event(seq=0, t=900, kind=K.REQUEST_END, req=1, pid=4242, tid=LOOP_TID, data={"status": 200})
    )
    rec.emit(K.CLIENT_RESPONSE, 1, {"status": 200, "ttfb_ns": 800}, t=950, tid=1)
    spans = spans_of(rec, finish=True)
    assert sorted(span.name for span in spans) == ["GET", "queued"]
    server = by_name(spans, "GET /items")
    assert (server.start_time - UNIX_NS, server.end_time - UNIX_NS) == (0, 900)
    assert server.attributes["tracer.queued_ns"] == 300
    assert server.attributes["thread.id"] == LOOP_TID


def _raised_before_answering(rec: Recorder, *, answer_first: bool) -> None:
    """Request 1 as a real server records it: sent and answered 500 by the load generator
    (pid 1), started in worker 4242 whose app raised before its response start (no status)."""
    rec.emit(K.CLIENT_SEND, 1, {"method": "GET", "path": "/boom"}, t=0, tid=1)
    rec.emit(K.REQUEST_QUEUED, 1, {"method": "GET", "path": "/boom"}, t=0, tid=1)
    server = [
        (K.REQUEST_START, 300, start_data(path="/boom")),
        (K.ERROR, 400, {"type": "ValueError", "message": "kaboom"}),
        (K.REQUEST_END, 500, {"status": None, "error": "ValueError"}),
    ]
    for kind, t, data in server:
        rec.add(Event(seq=0, t=t, kind=kind, req=1, pid=4242, tid=LOOP_TID, data=data))
    # The client's answer comes after the server's end in time, but a live run may merge the
    # server's events later than the client's.
    answer = 100 if answer_first else 900
    rec.emit(K.CLIENT_RESPONSE, 1, {"status": 500, "ttfb_ns": answer}, t=answer, tid=1)


@pytest.mark.parametrize("answer_first", [False, True])
def test_an_app_that_raised_before_answering_has_the_status_its_server_sent(
    answer_first: bool,
) -> None:
    """request.end has no status (the app raised first); the server answered 500, as the
    client recorded: the SERVER span carries 500, ends at request.end, and is emitted once,
    whichever of the two events the model is fed first."""
    rec = recorder()
    _raised_before_answering(rec, answer_first=answer_first)
    provider, exporter = memory_provider()
    model = SpanModel(make_sink(provider), base_ns=UNIX_NS)
    model.feed(rec.recording().events)  # in time order
    assert model.open_requests == 0  # no finish_all needed: the answer completed it
    server = by_name(list(exporter.get_finished_spans()), "GET /boom")
    assert server.attributes["http.response.status_code"] == 500
    assert server.attributes["error.type"] == "ValueError"
    assert server.status.description == "ValueError: kaboom"
    assert server.end_time - UNIX_NS == 500
    assert "tracer.incomplete" not in server.attributes


def test_a_request_the_recording_cut_short_is_marked_and_ends_at_its_last_event() -> None:
    """No request.end (the run was interrupted): tracer.incomplete, the span ends at its last
    recorded event, and it carries the status its app's response start sent (a 503: ERROR,
    typed by the status)."""
    rec = recorder()
    rec.emit(K.REQUEST_QUEUED, 1, {"method": "GET", "path": "/five"}, t=0, tid=1)
    rec.emit(K.REQUEST_START, 1, start_data(path="/five"), t=100, tid=LOOP_TID, thread=LOOP)
    send = {"type": "http.response.start", "status": 503}
    rec.emit(K.ASGI_SEND, 1, send, t=200, dur=30, tid=LOOP_TID, thread=LOOP)
    spans = spans_of(rec, finish=True)
    server = by_name(spans, "GET /five")
    assert server.attributes["tracer.incomplete"] is True
    assert server.end_time - UNIX_NS == 230
    assert server.attributes["http.response.status_code"] == 503
    assert server.attributes["error.type"] == "503"
    assert server.status.status_code is StatusCode.ERROR
    assert [s.name for s in spans if s.parent is not None] == ["queued"]


def test_a_request_the_server_never_started_is_named_by_what_was_asked() -> None:
    """Only client-side events (the server never got to it): an incomplete span, still named."""
    rec = recorder()
    rec.emit(K.REQUEST_QUEUED, 1, {"method": "POST", "path": "/upload"}, t=0, tid=1)
    (span,) = spans_of(rec, finish=True)
    assert span.name == "POST"
    assert span.attributes["tracer.incomplete"] is True
    assert "thread.id" not in span.attributes  # no server thread ever had it


@pytest.mark.parametrize(
    "method,name,attributes",
    [
        ("GET", "GET", {"http.request.method": "GET"}),
        (
            "PURGE",
            "HTTP",
            {"http.request.method": "_OTHER", "http.request.method_original": "PURGE"},
        ),
        (
            "get",
            "HTTP",
            {"http.request.method": "_OTHER", "http.request.method_original": "get"},
        ),
    ],
)
def test_a_method_outside_the_conventions_list_is_other(
    method: str, name: str, attributes: dict[str, str]
) -> None:
    """OpenTelemetry's HTTP conventions: known methods as they are (case-sensitive), any
    other as _OTHER with the original kept, and a low-cardinality span name."""
    rec = recorder()
    rec.emit(K.REQUEST_START, 1, start_data(method=method, path="/x"), t=0, tid=LOOP_TID)
    rec.emit(K.REQUEST_END, 1, {"status": 200}, t=1_000, tid=LOOP_TID)
    (span,) = spans_of(rec, "spans")
    assert span.name == name
    got = {k: v for k, v in span.attributes.items() if k.startswith("http.request.method")}
    assert got == attributes


def _real_request(
    rec: Recorder,
    server: list[tuple[str, int, dict[str, Any]]],
    answer: dict[str, Any],
    *,
    answer_at: int,
    method: str = "GET",
    path: str = "/items",
    body: int = 0,
) -> None:
    """One request as a real server run records it: sent by the load generator (pid 1), the
    ``server`` events from worker 4242, and the client's ``answer`` at ``answer_at``."""
    rec.emit(K.CLIENT_SEND, 1, {"method": method, "path": path, "bytes": body}, t=0, tid=1)
    rec.emit(K.REQUEST_QUEUED, 1, {"method": method, "path": path}, t=0, tid=1)
    for kind, t, data in server:
        rec.add(Event(seq=0, t=t, kind=kind, req=1, pid=4242, tid=LOOP_TID, data=data))
    rec.emit(K.CLIENT_RESPONSE, 1, answer, t=answer_at, tid=1)


def _fed(rec: Recorder, *, in_order: bool) -> Any:
    """The request's SERVER span, its events fed in time order or the client's first (as a
    live run may merge them)."""
    events = rec.recording().events
    if not in_order:
        events = sorted(events, key=lambda e: e.pid == 4242)  # the load generator's first
    provider, exporter = memory_provider()
    model = SpanModel(make_sink(provider), base_ns=UNIX_NS)
    model.feed(events)
    assert model.open_requests == 0  # the client's answer completed it
    (server,) = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    return server


@pytest.mark.parametrize("in_order", [True, False], ids=["in time order", "client first"])
def test_a_response_the_client_never_got_is_not_the_apps_status(in_order: bool) -> None:
    """The app denied a websocket with 401 (request.end says 401), but the server sent
    nothing and the client's connection was reset (daphne): the span has no status code (none
    was received), keeps the app's 401 as tracer.app_status_code, and fails with the client's
    error, as the summary counts it."""
    rec = recorder()
    denied = start_data(path="/deny", scope_type="websocket", method=None)
    deny = {"type": "websocket.http.response.start", "status": 401}
    server = [
        (K.REQUEST_START, 300, denied),
        (K.ASGI_SEND, 400, deny),
        (K.REQUEST_END, 500, {"status": 401, "bytes_in": 0, "bytes_out": 4, "error": None}),
    ]
    reset = {"status": None, "error": "ConnectionResetError", "message": "[Errno 104] reset"}
    _real_request(rec, server, reset, answer_at=900, path="/deny")
    span = _fed(rec, in_order=in_order)
    assert span.name == "GET"
    attrs = dict(span.attributes)
    assert "http.response.status_code" not in attrs
    assert attrs["tracer.app_status_code"] == 401 and attrs["tracer.bytes_out"] == 4
    assert attrs["error.type"] == "ConnectionResetError"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ConnectionResetError: [Errno 104] reset"
    assert span.end_time - UNIX_NS == 500  # the server's end: the SERVER span's own


@pytest.mark.parametrize("in_order", [True, False], ids=["in time order", "client first"])
def test_a_request_the_client_timed_out_on_is_not_ok(in_order: bool) -> None:
    """The app answered 200 and was done, but the client gave up first (its timeout): the
    span is an error typed by the client's failure, with no status received."""
    rec = recorder()
    server = [
        (K.REQUEST_START, 300, start_data()),
        (K.REQUEST_END, 500, {"status": 200, "bytes_in": 0, "bytes_out": 13, "error": None}),
    ]
    timeout = {"status": None, "error": "TimeoutError", "message": "no complete response"}
    _real_request(rec, server, timeout, answer_at=900)
    span = _fed(rec, in_order=in_order)
    attrs = dict(span.attributes)
    assert "http.response.status_code" not in attrs and attrs["tracer.app_status_code"] == 200
    assert attrs["error.type"] == "TimeoutError"
    assert span.status.status_code is StatusCode.ERROR


def test_a_response_cut_short_has_the_status_and_the_bytes_the_client_got() -> None:
    """A 200 whose body the connection cut after 10 of 50 bytes: status 200 (it was sent),
    http.response.body.size 10 (what arrived), error IncompleteResponse with its message."""
    rec = recorder()
    server = [
        (K.REQUEST_START, 300, start_data()),
        (K.REQUEST_END, 500, {"status": 200, "bytes_in": 0, "bytes_out": 10, "error": None}),
    ]
    cut = {
        "status": 200, "ttfb_ns": 400, "total_ns": 900, "bytes": 10,
        "error": "IncompleteResponse", "message": "connection closed mid-body after 10 of 50",
    }  # fmt: skip
    _real_request(rec, server, cut, answer_at=400)
    span = _fed(rec, in_order=True)
    attrs = dict(span.attributes)
    assert attrs["http.response.status_code"] == 200 and "tracer.app_status_code" not in attrs
    assert attrs["http.response.body.size"] == 10 and "tracer.bytes_out" not in attrs
    assert attrs["error.type"] == "IncompleteResponse"
    assert (
        span.status.description == "IncompleteResponse: connection closed mid-body after 10 of 50"
    )


def test_body_sizes_are_the_bytes_that_crossed_the_wire() -> None:
    """Under a real server: a 1 KB POST the app never read is http.request.body.size 1024 (the
    client sent it; tracer.bytes_in 0 says the app read nothing); a file the server sent
    through its wsgi.file_wrapper (the shim saw 0 bytes of it) is the 307200 bytes the client
    received."""
    rec = recorder()
    upload = start_data(method="POST", headers=[["content-length", "1024"]])
    end = {"status": 200, "bytes_in": 0, "bytes_out": 0, "error": None, "file_wrapper": True}
    server = [(K.REQUEST_START, 300, upload), (K.REQUEST_END, 500, end)]
    got = {"status": 200, "ttfb_ns": 600, "total_ns": 800, "bytes": 307_200}
    _real_request(rec, server, got, answer_at=600, method="POST", body=1024)
    attrs = dict(_fed(rec, in_order=True).attributes)
    assert attrs["http.request.body.size"] == 1024 and attrs["tracer.bytes_in"] == 0
    assert attrs["http.response.body.size"] == 307_200 and "tracer.bytes_out" not in attrs


def _in_process(
    start: dict[str, Any], end: dict[str, Any], *sends: tuple[str, dict[str, Any]]
) -> dict[str, Any]:
    """The SERVER span's attributes of one request an in-process model served (no client)."""
    rec = recorder()
    rec.emit(K.REQUEST_START, 1, start, t=100, tid=LOOP_TID)
    for i, (kind, data) in enumerate(sends):
        rec.emit(kind, 1, data, t=200 + i, tid=LOOP_TID)
    rec.emit(K.REQUEST_END, 1, end, t=500, tid=LOOP_TID)
    (span,) = spans_of(rec)
    return dict(span.attributes)


def test_without_a_client_the_sizes_follow_http() -> None:
    """In process (no client.response): a HEAD response carries no body whatever the app
    produced (0; tracer.bytes_out 1000); the request's Content-Length is its size even
    unread; a wsgi.file_wrapper the model sent is its declared Content-Length, and a
    pathsend file with none declared has no size rather than a false 0."""
    head = _in_process(start_data(method="HEAD"), {"status": 200, "bytes_in": 0, "bytes_out": 1000})
    assert head["http.response.body.size"] == 0 and head["tracer.bytes_out"] == 1000
    unread = _in_process(
        start_data(method="POST", headers=[["Content-Length", "1024"]]),
        {"status": 200, "bytes_in": 0, "bytes_out": 2},
    )
    assert unread["http.request.body.size"] == 1024 and unread["tracer.bytes_in"] == 0
    assert unread["http.response.body.size"] == 2 and "tracer.bytes_out" not in unread
    wrapped = _in_process(
        start_data(interface="wsgi"),
        {"status": 200, "bytes_in": 0, "bytes_out": 0, "file_wrapper": True},
        (K.WSGI_START_RESPONSE, {"status": "200 OK", "headers": [["Content-Length", "70000"]]}),
    )
    assert wrapped["http.response.body.size"] == 70_000 and "tracer.bytes_out" not in wrapped
    pathsend = _in_process(
        start_data(),
        {"status": 200, "bytes_in": 0, "bytes_out": 0},
        (K.ASGI_SEND, {"type": "http.response.start", "status": 200}),
        (K.ASGI_SEND, {"type": "http.response.pathsend"}),
    )
    assert "http.response.body.size" not in pathsend and "tracer.bytes_out" not in pathsend


def test_a_request_the_server_answered_without_the_app_is_complete() -> None:
    """uvicorn's 503 past --limit-concurrency: no request.start, no request.end, but the
    client's answer. The span is named by the method and path sent (PUT; the client's request
    target without its query), has the 503, and is not marked incomplete: nothing is
    missing."""
    rec = recorder()
    asked = {"method": "PUT", "path": "/sleep?ms=5"}
    rec.emit(K.CLIENT_SEND, 1, {**asked, "bytes": 3}, t=0, tid=1)
    rec.emit(K.REQUEST_QUEUED, 1, asked, t=0, tid=1)
    answer = {"status": 503, "ttfb_ns": 100, "total_ns": 120, "bytes": 19}
    rec.emit(K.CLIENT_RESPONSE, 1, answer, t=100, dur=20, tid=1)
    (span,) = spans_of(rec, finish=True)
    assert span.name == "PUT"
    attrs = dict(span.attributes)
    assert (attrs["url.path"], attrs["url.query"]) == ("/sleep", "ms=5")
    assert "tracer.incomplete" not in attrs
    assert attrs["http.response.status_code"] == 503 and attrs["error.type"] == "503"
    assert attrs["http.request.body.size"] == 3 and attrs["http.response.body.size"] == 19
    assert span.end_time - UNIX_NS == 120


def test_a_simulated_wsgi_recording_exports_every_request() -> None:
    """A simulated threads run (its wsgi.start_response records a header count): every
    request becomes a span, none is skipped as malformed."""
    from tracer.tui.examples import threads_example

    recording = threads_example(20, 2)
    provider, exporter = memory_provider()
    model = SpanModel(make_sink(provider), base_ns=UNIX_NS)
    model.feed(recording.events)
    model.finish_all()
    servers = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert model.failures == 0 and len(servers) == 20


@pytest.mark.parametrize("in_order", [True, False], ids=["in time order", "client first"])
def test_the_load_generators_own_end_says_nothing_of_what_the_app_sent(in_order: bool) -> None:
    """The client gave up while the body streamed: the first request.end is the load
    generator's stand-in (its pid, bytes_out 0). The span keeps what the client got and the
    status the app sent, and claims no ``tracer.bytes_out`` of 0 for an app that sent 150."""
    rec = recorder()
    server = [
        (K.REQUEST_START, 300, start_data()),
        (K.ASGI_SEND, 400, {"type": "http.response.start", "status": 200}),
    ]
    cut = {
        "status": 200, "ttfb_ns": 400, "total_ns": 900, "bytes": 50,
        "error": "TimeoutError", "message": "no complete response within 1s",
    }  # fmt: skip
    _real_request(rec, server, cut, answer_at=400)
    stand_in = {"status": None, "bytes_in": 0, "bytes_out": 0, "error": "timeout"}
    rec.emit(K.REQUEST_END, 1, stand_in, t=900, tid=1)
    rec.add(
        Event(seq=0, t=2000, kind=K.REQUEST_END, req=1, pid=4242, tid=LOOP_TID,
              data={"status": 200, "bytes_in": 0, "bytes_out": 150, "error": None})
    )  # fmt: skip
    span = _fed(rec, in_order=in_order)
    attrs = dict(span.attributes)
    assert attrs["http.response.status_code"] == 200 and attrs["http.response.body.size"] == 50
    assert "tracer.bytes_out" not in attrs and "tracer.app_status_code" not in attrs
    assert attrs["error.type"] == "timeout"

"""The replay and the live header on real-server recordings: the client's view is the outcome.

Hand-built events in the shape ``trace run --server uvicorn`` records: the client's
``client.send`` / ``request.queued`` / ``client.response`` in the ``trace`` process, the
server's ``request.start`` / ``sched.step`` / ``request.end`` in its worker processes.
"""

from __future__ import annotations

from tracer import events as K
from tracer.events import Event
from tracer.phases import ERROR, QUEUED, SENDING, request_phases
from tracer.recording import Recording
from tracer.tui.detail import detail_text
from tracer.tui.labels import labels
from tracer.tui.lane import LOOP_LANE
from tracer.tui.live_stats import LiveStats
from tracer.tui.model import build_model

MS = 1_000_000
CLIENT_PID, WORKER_A, WORKER_B = 100, 201, 202


def _client(req: int, sent: int, last: int, **data: object) -> list[Event]:
    response = {"status": 200, **data}
    return [
        Event(req * 10, sent * MS, K.CLIENT_SEND, req, CLIENT_PID, 1, "client"),
        Event(req * 10 + 1, sent * MS, K.REQUEST_QUEUED, req, CLIENT_PID, 1, "client",
              data={"method": "GET", "path": "/x"}),
        Event(req * 10 + 2, last * MS, K.CLIENT_RESPONSE, req, CLIENT_PID, 1, "client",
              data=response),
    ]  # fmt: skip


def _server(req: int, pid: int, start: int, end: int, **data: object) -> list[Event]:
    return [
        Event(req * 10 + 3, start * MS, K.REQUEST_START, req, pid, 7, "MainThread",
              data={"method": "GET", "path": "/x", "scope_type": "http"}),
        Event(req * 10 + 4, start * MS, K.SCHED_STEP, req, pid, 7, "MainThread", "t",
              (end - start) * MS, {"cpu_ns": 0}),
        Event(req * 10 + 5, end * MS, K.REQUEST_END, req, pid, 7, "MainThread",
              data={"status": 200, "error": None, **data}),
    ]  # fmt: skip


# 1: served by worker A, the response reaching the client 40 ms after the app returned;
# 2: turned away by the server with a 503 (the app never saw it); 3: served by worker B.
EVENTS = sorted(
    _client(1, 0, 50)
    + _server(1, WORKER_A, 2, 10)
    + _client(2, 5, 6, status=503)
    + _client(3, 20, 30)
    + _server(3, WORKER_B, 21, 29),
    key=lambda e: (e.t, e.seq),
)
RECORDING = Recording(header={"format": "gateway-trace", "version": 1}, events=EVENTS)


def test_a_request_the_app_never_saw_ends_at_the_clients_response() -> None:
    """The 503 is queued until its answer, not to the end of the recording, and marked as the
    error the summary counts it as (the ✖ at the answer)."""
    spans = request_phases([e for e in EVENTS if e.req == 2], t_end=60 * MS)
    assert [(s.phase, s.start, s.end) for s in spans] == [
        (QUEUED, 5 * MS, 6 * MS),
        (ERROR, 6 * MS, 6 * MS),
    ]


def test_the_response_on_its_way_is_drawn_as_sending() -> None:
    """After the app returned, the response still had 40 ms to go: a sending stretch."""
    spans = request_phases([e for e in EVENTS if e.req == 1], t_end=60 * MS)
    assert (SENDING, 10 * MS, 50 * MS) in [(s.phase, s.start, s.end) for s in spans]


def test_the_detail_pane_gives_the_clients_status_and_latency() -> None:
    """Status and latency are what the client got: 503 after 1 ms (an error, as the summary
    counts it: the lane is marked too); 200 after 50 ms."""
    model = build_model(RECORDING)
    texts = {lane.req: detail_text(model, lane, labels("en")).plain for lane in model.by_request}
    assert texts[2].splitlines()[0] == "#2 GET /x  → 503  latency 1.0 ms  error: status 503"
    assert [lane.req for lane in model.by_request if lane.error] == [2]
    assert texts[1].splitlines()[0] == "#1 GET /x  → 200  latency 50.0 ms"


def test_worker_lanes_are_named_and_grouped_by_process() -> None:
    """Two worker processes whose threads share a name: each lane says its pid."""
    model = build_model(RECORDING)
    loops = [lane.label for lane in model.by_worker if lane.kind == LOOP_LANE]
    assert loops == [f"loop {WORKER_A}/MainThread", f"loop {WORKER_B}/MainThread"]


def test_the_live_header_counts_sent_requests_as_queued_until_the_app_has_them() -> None:
    """Sent and not yet seen in the app is queued, not in flight (in flight is the summary's:
    in the app); the server's events, merged after the answers, leave nothing in either."""
    live = LiveStats()
    live.feed([e for e in EVENTS if e.pid == CLIENT_PID and e.kind != K.CLIENT_RESPONSE])
    snapshot = live.snapshot()
    assert (snapshot.in_flight, snapshot.queued) == (0, 3)
    live.feed([e for e in EVENTS if e.pid != CLIENT_PID and e.kind == K.REQUEST_START])
    snapshot = live.snapshot()
    assert (snapshot.in_flight, snapshot.queued) == (2, 1)
    live.feed([e for e in EVENTS if e.kind == K.CLIENT_RESPONSE])
    live.feed([e for e in EVENTS if e.pid != CLIENT_PID])  # the server's, after the answers
    snapshot = live.snapshot()
    assert (snapshot.in_flight, snapshot.queued, snapshot.completed, snapshot.errors) == (
        0,
        0,
        3,
        1,
    )

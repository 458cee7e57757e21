"""The replay model: phases and worker lanes derived from events (tracer.tui.model)."""

from __future__ import annotations

from tracer import events as K
from tracer.events import Event
from tracer.recording import Recording, make_header
from tracer.tui.lane import ABANDONED, BLOCKED, ERROR, QUEUED, RUNNING, SENDING, WAITING
from tracer.tui.model import build_model

MS = 1_000_000


def _events(recording: Recording, req: int, kind: str) -> list[Event]:
    return [e for e in recording.events if e.req == req and e.kind == kind]


def test_queued_span_runs_from_queued_to_start(threads_rec: Recording) -> None:
    """Each request's queued phase is exactly request.queued .. request.start."""
    model = build_model(threads_rec)
    for lane in model.by_request:
        queued = _events(threads_rec, lane.req, K.REQUEST_QUEUED)[0]
        start = _events(threads_rec, lane.req, K.REQUEST_START)[0]
        spans = [s for s in lane.spans if s.phase == QUEUED]
        assert [(s.start, s.end) for s in spans] == [(queued.t, start.t)]
    # With 4 threads and arrivals every 2 ms, later requests really wait for a worker.
    assert any(
        s.end > s.start for lane in model.by_request for s in lane.spans if s.phase == QUEUED
    )


def test_thread_span_is_split_by_cpu_share(threads_rec: Recording) -> None:
    """A sched.thread span is running when mostly on CPU, waiting when mostly off it."""
    model = build_model(threads_rec)
    for lane in model.by_request:
        event = _events(threads_rec, lane.req, K.SCHED_THREAD)[0]
        share = event.data["cpu_ns"] / event.dur
        span = next(
            s for s in lane.spans if s.start == event.t and s.end == event.end and s.cpu is not None
        )
        assert span.cpu == share
        assert span.phase == (RUNNING if share >= 0.5 else WAITING)


def test_body_is_sending_error_and_violation_are_marked(threads_rec: Recording) -> None:
    """A wsgi.body's own time is the app's (producing the chunk), the server's after it is
    sending; #5's error paints an error instant; #2 carries a marker."""
    model = build_model(threads_rec)
    lanes = {lane.req: lane for lane in model.by_request}
    body = _events(threads_rec, 1, K.WSGI_BODY)[0]
    sending = [s for s in lanes[1].spans if s.phase == SENDING]
    assert sending and all(s.start >= body.end for s in sending)
    assert lanes[5].error and any(s.phase == ERROR for s in lanes[5].spans)
    assert not lanes[1].error
    assert [m.text.split(":")[0] for m in lanes[2].markers] == ["wsgi-headers-list"]


def test_thread_lanes_hold_one_request_at_a_time(threads_rec: Recording) -> None:
    """By worker: 4 thread lanes; every request on exactly one; no lane runs two at once."""
    model = build_model(threads_rec)
    assert [lane.kind for lane in model.by_worker] == ["thread"] * 4
    seen = [s.req for lane in model.by_worker for s in lane.spans]
    assert sorted(seen) == list(range(1, 11))
    for lane in model.by_worker:
        for a, b in zip(lane.spans, lane.spans[1:], strict=False):
            assert a.end <= b.start


def test_loop_lane_interleaves_requests(loop_rec: Recording) -> None:
    """By worker: one loop lane whose steps never overlap, and while one request is in flight
    the loop runs steps of others (interleaving)."""
    model = build_model(loop_rec)
    assert [lane.kind for lane in model.by_worker] == ["loop"]
    loop = model.by_worker[0]
    for a, b in zip(loop.spans, loop.spans[1:], strict=False):
        assert a.end <= b.start
    first = next(lane for lane in model.by_request if lane.req == 1)
    life = (first.spans[0].start, max(s.end for s in first.spans))
    others = {s.req for s in loop.spans if life[0] < s.start < life[1]}
    assert len(others - {1}) >= 2


def test_blocking_step_is_blocked_everywhere(loop_rec: Recording) -> None:
    """The step covered by loop.blocked is blocked on the request lane and on the loop lane, and
    the requests in its ``delayed`` list know what held them up."""
    model = build_model(loop_rec)
    (block,) = model.blocked
    assert block.req == 3 and block.dur == 30 * MS
    lane = next(lane for lane in model.by_request if lane.req == 3)
    assert [(s.start, s.end) for s in lane.spans if s.phase == BLOCKED] == [(block.t, block.end)]
    loop = model.by_worker[0]
    assert [(s.start, s.end, s.req) for s in loop.spans if s.phase == BLOCKED] == [
        (block.t, block.end, 3)
    ]
    assert block.data["delayed"]
    for req in block.data["delayed"]:
        assert model.delayed_by[req] == [block]


def test_gaps_between_steps_are_waiting(loop_rec: Recording) -> None:
    """Between two steps of a request, it is suspended on an await: waiting."""
    model = build_model(loop_rec)
    lane = next(lane for lane in model.by_request if lane.req == 1)
    steps = _events(loop_rec, 1, K.SCHED_STEP)
    gap = (steps[0].end + steps[1].t) // 2
    assert lane.span_at(gap).phase == WAITING
    assert lane.span_at(steps[0].t + 1).phase == RUNNING


def test_threshold_marks_long_steps_without_detector() -> None:
    """With threshold_ns, a long step is blocked even with no loop.blocked event."""
    header = make_header(interface="asgi", server={"model": "loop"})
    events = [
        Event(0, 0, K.REQUEST_START, 1, data={"path": "/"}),
        Event(1, 0, K.SCHED_STEP, 1, dur=20 * MS, data={"cpu_ns": 20 * MS}),
        Event(2, 20 * MS, K.REQUEST_END, 1, data={"status": 200}),
    ]
    recording = Recording(header, events)
    plain = build_model(recording)
    strict = build_model(recording, threshold_ns=10 * MS)
    assert plain.by_request[0].span_at(MS).phase == RUNNING
    assert strict.by_request[0].span_at(MS).phase == BLOCKED
    assert strict.by_worker[0].spans[0].phase == BLOCKED


def test_odd_input_does_not_break_the_model() -> None:
    """Non-object data, a request that never ends and a lifespan scope are all handled: the
    unfinished request runs to the end of the recording; lifespan gets no lane."""
    header = make_header(interface="asgi")
    events = [
        Event(0, 0, K.REQUEST_START, 9, data={"scope_type": "lifespan"}),
        Event(1, 0, K.REQUEST_QUEUED, 1, data=["not", "an", "object"]),  # type: ignore[arg-type]
        Event(2, 5, K.REQUEST_START, 1, data={"path": "/x"}),
        Event(3, 50, K.LOOP_BLOCKED, 1, dur=None, data={"delayed": "nope"}),
        Event(4, 100, K.MARK, None, data={"label": "end"}),
    ]
    model = build_model(Recording(header, events))
    assert [lane.req for lane in model.by_request] == [1]
    lane = model.by_request[0]
    assert max(s.end for s in lane.spans) == model.t_end == 100
    assert lane.label == "#1 /x"
    # No step under the loop.blocked: it paints its own (instant) blocked span.
    assert lane.span_at(50).phase == BLOCKED
    assert [e.data["label"] for e in model.marks] == ["end"]


def test_the_first_request_end_counts_as_in_the_summary() -> None:
    """A client timeout, then the app's own late end (an older recording holds both): the
    request is in error and the detail pane reports the timeout, as the summary; the lane goes
    on to the app's own end, abandoned (the work it did after its client gave up)."""
    from tracer.summary import summarize
    from tracer.tui.detail import detail_text
    from tracer.tui.labels import labels

    header = make_header(interface="wsgi", server={"model": "threads"})
    timeout = {"status": None, "bytes_in": 0, "bytes_out": 0, "error": "timeout"}
    late = {"status": 200, "bytes_in": 0, "bytes_out": 5, "error": None}
    events = [
        Event(0, 0, K.REQUEST_QUEUED, 1, data={"method": "GET", "path": "/"}),
        Event(1, 0, K.REQUEST_START, 1, data={"path": "/"}),
        Event(2, 0, K.SCHED_THREAD, 1, dur=400 * MS, data={"cpu_ns": 0}),
        Event(3, 50 * MS, K.REQUEST_END, 1, data=timeout),
        Event(4, 400 * MS, K.REQUEST_END, 1, data=late),
    ]
    model = build_model(Recording(header, events))
    lane = model.by_request[0]
    assert lane.error and summarize(events)["errors"] == 1
    finish = max(s.end for s in lane.spans if s.phase in (RUNNING, WAITING, ABANDONED))
    assert finish == 400 * MS
    tail = [(s.start, s.end) for s in lane.spans if s.phase == ABANDONED]
    assert tail == [(50 * MS, 400 * MS)] and model.abandoned == [1]
    text = detail_text(model, lane, labels("en")).plain
    assert "timeout" in text and "→ no response" in text and "None" not in text.splitlines()[0]


def test_a_queued_request_is_labelled_with_its_path() -> None:
    """Not started yet (the live view shows many): the path comes from request.queued."""
    header = make_header(interface="wsgi", server={"model": "threads"})
    events = [Event(0, 0, K.REQUEST_QUEUED, 14, data={"method": "GET", "path": "/slow"})]
    model = build_model(Recording(header, events))
    assert model.by_request[0].label == "#14 /slow"
    bare = build_model(Recording(header, [Event(0, 0, K.REQUEST_QUEUED, 3, data={})]))
    assert bare.by_request[0].label == "#3"


def test_lanes_in_error_are_the_ones_the_summary_counts(threads_rec: Recording) -> None:
    """Raised, no response or a 5xx: the marked lanes are exactly the summary's errors."""
    model = build_model(threads_rec)
    marked = [lane.req for lane in model.by_request if lane.error]
    assert marked == [5] and model.summary["errors"] == len(marked)


def _threads_starting_together(threads: list[tuple[int, str]]) -> Recording:
    """One request per thread ``(tid, name)``, all starting at t=0, listed in reverse."""
    events = [
        Event(seq, 0, K.SCHED_THREAD, seq + 1, pid=1000, tid=tid, thread=name, dur=MS)
        for seq, (tid, name) in enumerate(reversed(threads))
    ]
    return Recording(make_header(interface="wsgi", server={"model": "threads"}), events)


def test_worker_lanes_starting_together_are_in_natural_order() -> None:
    """By worker, threads that start at the same time come in the order people count them:
    worker-2 before worker-10 (thread ids compared as numbers, not as text)."""
    sim = [(tid, f"worker-{tid - 2}") for tid in range(2, 14)]  # as the simulator names them
    model = build_model(_threads_starting_together(sim))
    assert [lane.label for lane in model.by_worker] == [f"worker-{i}" for i in range(12)]
    # Real threads: their ids are addresses, their names count; one name shared by two
    # threads is numbered, in the order of their ids (as numbers) when they start together.
    real = [
        (140_001, "ThreadPoolExecutor-0_10"),
        (140_003, "ThreadPoolExecutor-0_2"),
        (90_000, "worker"),
        (100_000, "worker"),
    ]
    model = build_model(_threads_starting_together(real))
    assert [lane.label for lane in model.by_worker] == [
        "ThreadPoolExecutor-0_2",
        "ThreadPoolExecutor-0_10",
        "worker #1",
        "worker #2",
    ]
    assert [lane.key for lane in model.by_worker][2:] == ["thread:1000:90000", "thread:1000:100000"]

"""The detail pane's text (tracer.tui.detail.detail_text), without a running app."""

from __future__ import annotations

from tracer.recording import Recording
from tracer.tui.detail import detail_text
from tracer.tui.labels import labels
from tracer.tui.model import build_model


def test_request_detail_lists_scope_phases_delay_and_events(loop_rec: Recording) -> None:
    """A delayed request: scope, time per phase, who held the loop, then every event with its
    time relative to arrival, in order."""
    model = build_model(loop_rec)
    block = model.blocked[0]
    victim = block.data["delayed"][0]
    lane = model.by_request[model.by_request.index_of(victim)]
    text = detail_text(model, lane, labels("en")).plain
    assert text.startswith(f"#{victim} GET /")
    assert "scope: method=GET path=/ http_version=1.1 scheme=http client=127.0.0.1:" in text
    assert f"loop held by #{block.req} 30.00ms @ {block.data['location']}" in text
    rows = [line.split()[1] for line in text.splitlines() if line.strip().startswith("+")]
    assert rows == [e.kind for e in model.events_by_req[victim]]
    assert text.splitlines()[-len(rows)].strip().startswith("+0.000ms")


def test_thread_request_shows_queueing_and_cpu_share(threads_rec: Recording) -> None:
    """A queued WSGI request says it waited for a worker and how much of its time was on CPU."""
    model = build_model(threads_rec)
    lane = next(
        lane
        for lane in model.by_request
        if any(s.phase == 2 and s.end > s.start for s in lane.spans)
    )
    text = detail_text(model, lane, labels("en")).plain
    assert "waited for a worker" in text and "on CPU" in text


def test_worker_detail_names_the_request_at_the_cursor(threads_rec: Recording) -> None:
    """A thread lane: how busy it was, how many requests it served, who holds it at the cursor."""
    model = build_model(threads_rec)
    lane = model.by_worker[0]
    span = lane.spans[0]
    text = detail_text(model, lane, labels("en"), cursor=(span.start + span.end) // 2).plain
    assert text.startswith(lane.label)
    assert f"requests served {len({s.req for s in lane.spans})}" in text
    assert f"#{span.req}" in text.splitlines()[2]


def test_detail_in_chinese(loop_rec: Recording) -> None:
    """The pane speaks the UI's language."""
    model = build_model(loop_rec)
    text = detail_text(model, model.by_request[0], labels("zh")).plain
    assert "事件" in text and "作用域" in text

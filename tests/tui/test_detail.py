"""The detail pane's text (tracer.tui.detail.detail_text), without a running app."""

from __future__ import annotations

from pathlib import Path

import pytest

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


def test_requests_queued_behind_a_block_name_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On the loop model, requests still queued while a blocking step held the loop (the shim
    cannot see them) are named as delayed by it: every block that ran between a request's
    arrival and its start, on the loop it then started on, never its own."""
    from tracer import events as K
    from tracer.cli import main
    from tracer.recording import load

    path = tmp_path / "blocking.jsonl"
    argv = ["run", "sample_apps.blocking:app", "--path", "/?ms=30", "-c", "3", "-n", "6"]
    assert main([*argv, "--json", "--record", str(path)]) == 0
    capsys.readouterr()
    model = build_model(load(path))
    assert model.blocked
    checked = 0
    for req, events in model.events_by_req.items():
        queued = next((e for e in events if e.kind == K.REQUEST_QUEUED), None)
        start = next((e for e in events if e.kind == K.REQUEST_START), None)
        if queued is None or start is None:
            continue
        behind = [
            b for b in model.blocked if b.req != req and queued.t < b.t + b.dur and b.t < start.t
        ]
        named = model.delayed_by.get(req, [])
        assert all(block in named for block in behind), req
        assert all(b.req != req for b in model.delayed_by.get(req, []))
        checked += bool(behind)
    assert checked >= 2  # -c 3 with 30 ms blocks: later requests waited behind earlier ones
    lane = next(lane for lane in model.by_request if model.delayed_by.get(lane.req))
    text = detail_text(model, lane, labels("en")).plain
    assert "loop held by #" in text
    if any(s.phase == 2 and s.end > s.start for s in lane.spans):
        assert "waited for the loop" in text


def test_wsgi_request_shows_its_environ_and_workers_count_requests_only() -> None:
    """A WSGI request's summary line is labelled environ; a worker lane counts the requests it
    served, never a lifespan connection."""
    from tracer.tui.examples import threads_example

    model = build_model(threads_example(6, 2))
    text = detail_text(model, model.by_request[0], labels("en")).plain
    assert "\nenviron: method=GET" in text and "\nscope:" not in text
    worker = model.by_worker[0]
    served = {span.req for span in worker.spans if span.req is not None}
    assert (
        f"requests served {len(served - model.lifespan)}"
        in detail_text(model, worker, labels("en")).plain
    )

"""The detail pane's text (tracer.tui.detail.detail_text), without a running app."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.cells import cell_len

from tracer.recording import Recording
from tracer.tui.detail import detail_text
from tracer.tui.labels import labels
from tracer.tui.lane import QUEUED
from tracer.tui.model import TimelineModel, build_model


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
    assert f"loop held by #{block.req} 30.0 ms @ {block.data['location']}" in text
    rows = [line[14:34].strip() for line in text.splitlines() if line.strip().startswith("+")]
    assert rows == [e.kind for e in model.events_by_req[victim]]
    assert text.splitlines()[-len(rows)].strip().startswith("+0 ")


def test_thread_request_shows_queueing_and_cpu_share(threads_rec: Recording) -> None:
    """A queued WSGI request says it waited for a worker and how much of its time was on CPU."""
    model = build_model(threads_rec)
    lane = next(
        lane
        for lane in model.by_request
        if any(s.phase == QUEUED and s.end > s.start for s in lane.spans)
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
    if any(s.phase == QUEUED and s.end > s.start for s in lane.spans):
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


def _one_request(end_data: dict[str, object], interface: str = "wsgi") -> TimelineModel:
    """A recording of one request that ran 5 ms and ended with ``end_data``."""
    from tracer import events as K
    from tracer.events import Event
    from tracer.recording import make_header

    start = {"method": "GET", "path": "/x", "interface": interface, "scope_type": "http"}
    events = [
        Event(0, 0, K.REQUEST_QUEUED, 1, data={"method": "GET", "path": "/x"}),
        Event(1, 1_000, K.REQUEST_START, 1, data=start),
        Event(2, 5_000_000, K.REQUEST_END, 1, data=end_data),
    ]
    header = make_header(interface=interface, server={"model": "threads"})
    return build_model(Recording(header, events))


def test_a_5xx_is_an_error_in_the_lane_and_the_detail() -> None:
    """A 503 the app returned without raising counts as an error in the summary: the lane is
    marked and the pane gives the status as the error."""
    from tracer.summary import summarize

    model = _one_request({"status": 503, "error": None})
    lane = model.by_request[0]
    assert model.summary["errors"] == 1 == summarize(model.recording)["errors"]
    assert lane.error
    first = detail_text(model, lane, labels("en")).plain.splitlines()[0]
    assert first == "#1 GET /x  → 503  latency 5.0 ms  error: status 503"
    assert "错误：状态码 503" in detail_text(model, lane, labels("zh")).plain


def test_a_4xx_or_2xx_is_no_error() -> None:
    """Only 5xx responses count: a 404 is an answer, not a failure."""
    model = _one_request({"status": 404, "error": None})
    lane = model.by_request[0]
    assert not lane.error and model.summary["errors"] == 0
    assert "error" not in detail_text(model, lane, labels("en")).plain.splitlines()[0]


def test_a_request_that_raised_says_no_response_not_none() -> None:
    """No status recorded (the app raised): "→ no response", in the UI's language."""
    model = _one_request({"status": None, "error": "ZeroDivisionError"})
    lane = model.by_request[0]
    en = detail_text(model, lane, labels("en")).plain.splitlines()[0]
    assert en == "#1 GET /x  → no response  latency 5.0 ms  error: ZeroDivisionError"
    zh = detail_text(model, lane, labels("zh")).plain.splitlines()[0]
    assert "→ 无响应" in zh and "None" not in zh


def test_the_environ_label_is_translated() -> None:
    """Chinese names the WSGI environ as it names the ASGI scope (作用域)."""
    model = _one_request({"status": 200, "error": None})
    text = detail_text(model, model.by_request[0], labels("zh")).plain
    assert text.splitlines()[1].startswith("环境（environ）：")


def test_a_lifespan_on_a_worker_lane_is_named_and_the_columns_line_up() -> None:
    """uvicorn's lifespan connection holds the loop first: its row says "lifespan", not a
    server's internal id, and every row's duration starts in the same column."""
    from tracer import events as K
    from tracer.events import Event
    from tracer.recording import make_header

    lifespan = 26671000001
    events = [
        Event(0, 0, K.REQUEST_START, lifespan, data={"scope_type": "lifespan"}),
        Event(1, 0, K.SCHED_STEP, lifespan, dur=11_000, tid=1, thread="MainThread"),
        Event(2, 1_000_000, K.REQUEST_START, 1, data={"path": "/", "scope_type": "http"}),
        Event(3, 1_000_000, K.SCHED_STEP, 1, dur=38_000, tid=1, thread="MainThread"),
        Event(4, 2_000_000, K.REQUEST_END, 1, data={"status": 200}),
    ]
    header = make_header(interface="asgi", server={"model": "uvicorn"})
    model = build_model(Recording(header, events))
    (loop,) = model.by_worker
    for lang in ("en", "zh"):
        text = detail_text(model, loop, labels(lang)).plain
        rows = text.splitlines()[4:]  # under the name, the figures, the cursor, the heading
        assert len(rows) == 2, rows
        assert str(lifespan) not in text
        assert labels(lang)["lifespan"] in rows[0] and "#1 " in rows[1]
        ends = {cell_len(row[: row.index("µs")]) for row in rows}
        assert len(ends) == 1, rows


def test_a_block_starved_of_the_gil_says_so_for_its_victims_and_its_culprit(
    loop_rec: Recording,
) -> None:
    """Marked starved, the block's victims read that the loop was held while other threads had
    the GIL, and the culprit reads that it waited rather than ran (English and Chinese)."""
    events = [
        e._replace(data={**e.data, "starved": True, "others_busy": 0.9})
        if e.kind == "loop.blocked"
        else e
        for e in loop_rec.events
    ]
    model = build_model(Recording(loop_rec.header, events))
    block = model.blocked[0]
    victim = model.by_request[model.by_request.index_of(block.data["delayed"][0])]
    culprit = model.by_request[model.by_request.index_of(block.req)]
    for lang in ("en", "zh"):
        words = labels(lang)
        assert words["aside"].format(words["starved"]) in detail_text(model, victim, words).plain
        assert words["starved_by_threads"] in detail_text(model, culprit, words).plain
    plain = build_model(loop_rec)
    lane = plain.by_request[plain.by_request.index_of(block.req)]
    assert labels("en")["starved_by_threads"] not in detail_text(plain, lane, labels("en")).plain


_DEEP = "sample_apps/some/deeply/nested/package/with/a/long/path/module.py:1234"


def _asgi_request(after_body_ns: int, *, violation: dict[str, object] | None = None) -> Recording:
    """One ASGI request: queued at 0, started at 0.1 ms, its whole response sent by 0.3 ms,
    then the app runs on ``after_body_ns`` more before it returns (a task after the body)."""
    from tracer import events as K
    from tracer.events import Event
    from tracer.recording import make_header

    start = {"method": "GET", "path": "/x", "interface": "asgi", "scope_type": "http"}
    body = {"type": "http.response.body", "bytes": 2, "more_body": False}
    step = {"cpu_ns": 140_000, "awaiting": "asyncio.sleep", "location": _DEEP}
    events = [
        Event(0, 0, K.REQUEST_QUEUED, 1, data={"method": "GET", "path": "/x"}),
        Event(1, 100_000, K.REQUEST_START, 1, tid=7, thread="loop", data=start),
        Event(2, 100_000, K.SCHED_STEP, 1, tid=7, thread="loop", dur=150_000, data=step),
        Event(3, 200_000, K.ASGI_SEND, 1, data={"type": "http.response.start", "status": 200}),
        Event(4, 250_000, K.ASGI_SEND, 1, dur=50_000, data=body),
    ]
    if violation is not None:
        events.append(Event(5, 260_000, K.VIOLATION, 1, data=violation))
    end = 300_000 + after_body_ns
    events += [
        Event(6, end - 10_000, K.SCHED_STEP, 1, tid=7, thread="loop", dur=10_000, data={}),
        Event(7, end, K.REQUEST_END, 1, data={"status": 200}),
    ]
    return Recording(make_header(interface="asgi", server={"model": "loop"}), events)


def test_the_latency_is_the_summarys_and_an_app_that_ran_on_says_so() -> None:
    """The pane's latency is the summary's for the same request (arrival to the last body
    message), not to the app's return; an app that kept running after its response says
    until when, apart; one that returned at once says nothing of it."""
    from tracer.summary import summarize

    late = build_model(_asgi_request(300_000_000))
    assert summarize(late.recording)["latency_ms"]["p50"] == 0.3
    first = detail_text(late, late.by_request[0], labels("en")).plain.splitlines()[0]
    assert first == "#1 GET /x  → 200  latency 300.0 µs  app ran on until +300.3 ms"
    zh = detail_text(late, late.by_request[0], labels("zh")).plain.splitlines()[0]
    assert "延迟 300.0 µs" in zh and labels("zh")["ran_on"] + " +300.3 ms" in zh
    prompt = build_model(_asgi_request(20_000))
    first = detail_text(prompt, prompt.by_request[0], labels("en")).plain.splitlines()[0]
    assert first == "#1 GET /x  → 200  latency 300.0 µs"


def test_a_workers_utilisation_is_the_reports(threads_rec: Recording, tmp_path: Path) -> None:
    """A thread's utilisation in the pane is the one `trace summary` prints for it (busy over
    the requests' window, not over the recording from t=0): here the server took a second to
    start before the first request."""
    from tracer import figures
    from tracer.digest import digest_file

    from .conftest import write_recording

    second = 1_000_000_000
    late = [e._replace(t=e.t + second) for e in threads_rec.events]
    path = write_recording(Recording(threads_rec.header, late), tmp_path / "late.jsonl")
    _, digest = digest_file(path)
    report = {worker.name: worker for worker in digest.details().workers}
    model = build_model(Recording(threads_rec.header, late))
    for lane in model.by_worker:
        line = detail_text(model, lane, labels("en")).plain.splitlines()[1]
        row = report[lane.label]
        busy = figures.duration(row.busy_ms * 1e6)
        assert line.startswith(f"utilisation {figures.percent(row.utilisation)}  busy {busy}")
        assert row.utilisation > 0.5
        assert "利用率" in detail_text(model, lane, labels("zh")).plain


def test_event_rows_fill_the_pane_and_a_violation_shows_its_hint() -> None:
    """An event row's data is cut at the pane's width, not at a fixed 70 characters: a wide
    pane shows a step's file:line whole; a narrow one cuts every row to fit. The violation's
    message and its hint are given whole, under the events."""
    from tracer import events as K

    violation = {
        "rule": "ASGI-001",
        "message": "body is not bytes: got str, so the client got nothing of what was meant",
        "severity": "error",
        "hint": "Yield bytes: encode str with .encode('utf-8').",
        "location": "sample_apps/some/deeply/nested/package/module.py:1234",
    }
    model = build_model(_asgi_request(20_000, violation=violation))
    lane = model.by_request[0]
    wide = detail_text(model, lane, labels("en"), width=160).plain
    assert f"location={_DEEP}\n" in wide
    narrow = detail_text(model, lane, labels("en"), width=60).plain
    rows = [line for line in narrow.splitlines() if line.strip().startswith("+")]
    assert len(rows) == len(model.events_by_req[1])
    assert all(cell_len(row) <= 60 for row in rows)
    assert any(row.endswith("…") and K.VIOLATION in row for row in rows)
    for text in (wide, narrow):
        assert (
            f"\n  ! ASGI-001: {violation['message']}  @ {violation['location']}"
            f"\n    hint: {violation['hint']}"
        ) in text
    assert f"修复建议：{violation['hint']}" in detail_text(model, lane, labels("zh")).plain


def _uvloop_block(complete: bool) -> TimelineModel:
    """Request 2 waits on a timer while request 1 blocks the loop 50 ms; the block's
    ``delayed`` is empty, whole (asyncio) or not (uvloop: ``delayed_complete`` false)."""
    from tracer import events as K
    from tracer.events import Event
    from tracer.recording import make_header

    start = {"method": "GET", "path": "/x", "interface": "asgi", "scope_type": "http"}
    sleep = {"cpu_ns": 1_000, "awaiting": "asyncio.sleep", "location": "app.py:3"}
    block = {"location": "app.py:9", "delayed": []}
    if not complete:
        block["delayed_complete"] = False
    loop = {"tid": 7, "thread": "loop", "pid": 1}
    events = [
        Event(0, 0, K.REQUEST_START, 2, **loop, data=start),
        Event(1, 0, K.SCHED_STEP, 2, **loop, dur=1_000, data=sleep),
        Event(2, 10_000, K.REQUEST_START, 1, **loop, data=start),
        Event(3, 10_000, K.SCHED_STEP, 1, **loop, dur=50_000_000, data={"cpu_ns": 1_000}),
        Event(4, 10_000, K.LOOP_BLOCKED, 1, **loop, dur=50_000_000, data=block),
        Event(5, 50_010_000, K.REQUEST_END, 1, **loop, data={"status": 200}),
        Event(6, 50_020_000, K.SCHED_STEP, 2, **loop, dur=1_000, data={"cpu_ns": 1_000}),
        Event(7, 50_030_000, K.REQUEST_END, 2, **loop, data={"status": 200}),
    ]
    return build_model(Recording(make_header(interface="asgi", server={"model": "loop"}), events))


def test_a_request_a_block_may_have_held_unseen_does_not_read_as_undelayed() -> None:
    """On uvloop a block cannot list the requests a timer would have woken: a request whose
    time it overlaps reads "nothing seen, though ...", never "it ran as soon as it arrived";
    on asyncio's loop, whose list is whole, "nothing" stands (English and Chinese)."""
    for lang in ("en", "zh"):
        words = labels(lang)
        unseen = _uvloop_block(complete=False)
        lane = unseen.by_request[unseen.by_request.index_of(2)]
        said = detail_text(unseen, lane, words).plain
        assert words["maybe_held"] in said and words["nothing_delayed"] not in said
        whole = _uvloop_block(complete=True)
        lane = whole.by_request[whole.by_request.index_of(2)]
        said = detail_text(whole, lane, words).plain
        assert words["nothing_delayed"] in said and words["maybe_held"] not in said

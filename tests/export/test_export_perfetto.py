"""Perfetto (Chrome trace JSON) export: structure, interleaving, hops, counters, instants."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import defaultdict
from typing import Any

import httpx
import pytest
from chrome_trace_checks import async_slices, check_chrome_trace, thread_slices

import sim
import tracer
from tracer import events as K
from tracer.cli import main
from tracer.events import Event
from tracer.export import ExportOptions
from tracer.export.perfetto import export_perfetto, nest, to_chrome_trace
from tracer.recorder import Recorder


async def _hop_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Sleeps (yielding the loop), hops to a thread, then answers."""
    if scope["type"] != "http":
        return
    await asyncio.sleep(0.002)
    await asyncio.to_thread(time.sleep, 0.002)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _traced_run(paths: list[str]) -> Recorder:
    rec = Recorder(app="tests:hop_app", interface="asgi", server={"model": "loop"})
    app = tracer.instrument(_hop_app, recorder=rec)

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await asyncio.gather(*(client.get(path) for path in paths))

    asyncio.run(main())
    return rec


def test_a_traced_concurrent_asgi_run_is_a_well_formed_trace() -> None:
    """Real shim, three interleaved requests with thread hops: every structural rule holds."""
    rec = _traced_run(["/1", "/2", "/3"])
    trace = to_chrome_trace(rec.recording())
    check_chrome_trace(trace)
    names = {e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "thread_name"}
    assert any(name.endswith("(event loop)") for name in names)
    assert any(name.startswith("asyncio_") for name in names)


def test_interleaved_requests_share_the_loop_thread_and_each_has_its_own_async_lane() -> None:
    """On the loop thread steps of different requests alternate; each request is one lane."""
    rec = _traced_run(["/1", "/2"])
    trace = to_chrome_trace(rec.recording())
    loop_tid = next(
        e["tid"]
        for e in trace["traceEvents"]
        if e["name"] == "thread_name" and e["args"]["name"].endswith("(event loop)")
    )
    pid = next(iter(e["pid"] for e in trace["traceEvents"] if e["ph"] == "B"))
    steps = sorted(s for s in thread_slices(trace)[(pid, loop_tid)] if s[2].startswith("#"))
    owners = [name.split()[0] for _, _, name in steps]
    switches = sum(1 for a, b in zip(owners, owners[1:], strict=False) if a != b)
    assert switches >= 2, owners  # 1 -> 2 -> 1: interleaved, not one after the other
    lanes = async_slices(trace)
    roots = sorted(name for slices in lanes.values() for _, _, name, depth in slices if depth == 0)
    assert roots == ["GET /1", "GET /2"]
    for slices in lanes.values():
        (root,) = [s for s in slices if s[3] == 0]
        assert all(root[0] <= b and e <= root[1] for b, e, _, _ in slices)


def test_thread_hops_draw_flows_there_and_back() -> None:
    """Each to_thread hop: an arrow loop -> worker and one worker -> loop."""
    rec = _traced_run(["/1"])
    trace = to_chrome_trace(rec.recording())
    flows = [e for e in trace["traceEvents"] if e["ph"] in "sf"]
    assert [e["ph"] for e in flows] == ["s", "f", "s", "f"]
    loop_tid = flows[0]["tid"]
    assert flows[1]["tid"] != loop_tid and flows[2]["tid"] == flows[1]["tid"]
    assert flows[3]["tid"] == loop_tid


def _hand_built() -> Recorder:
    rec = Recorder(start_ns=0, clock=lambda: 0, server={"model": "threads"})
    for req, worker in ((1, 21), (2, 22), (3, 21)):
        queued_at = req * 10
        rec.emit(
            K.REQUEST_QUEUED,
            req,
            {"method": "GET", "path": "/"},
            t=queued_at,
            tid=5,
            thread="acceptor",
        )
        begin = 100 if req < 3 else 1_000
        rec.emit(
            K.REQUEST_START,
            req,
            {
                "method": "GET",
                "path": "/",
                "scope_type": "http",
                "headers": [["cookie", "[redacted]"]],
            },
            t=begin,
            tid=worker,
            thread=f"worker-{worker}",
        )
        rec.emit(
            K.SCHED_THREAD,
            req,
            {"via": "wsgi"},
            t=begin,
            dur=800,
            tid=worker,
            thread=f"worker-{worker}",
        )
        rec.emit(K.WSGI_BODY, req, {"bytes": 5}, t=begin + 100, dur=50, tid=worker)
        rec.emit(K.REQUEST_END, req, {"status": 200}, t=begin + 800, tid=worker)
    rec.emit(K.VIOLATION, 2, {"rule": "wsgi-001", "message": "x"}, t=300, tid=22)
    rec.emit(K.MARK, None, {"label": "phase 2"}, t=500, tid=5)
    return rec


def test_counters_follow_queue_depth_and_requests_in_flight() -> None:
    """Three queued, two workers: queue depth 1,2,3 then down; at most 2 in flight."""
    trace = to_chrome_trace(_hand_built().recording())
    check_chrome_trace(trace)
    queue = [e["args"]["depth"] for e in trace["traceEvents"] if e["name"] == "queue"]
    flight = [e["args"]["in flight"] for e in trace["traceEvents"] if e["name"] == "requests"]
    assert queue == [1, 2, 3, 2, 1, 0]
    assert flight == [1, 2, 1, 0, 1, 0]


def test_instants_for_violations_and_marks_and_no_headers_in_args() -> None:
    """A violation is a thread instant, a mark a global one; recorded headers stay out."""
    trace = to_chrome_trace(_hand_built().recording())
    instants = {e["name"]: e for e in trace["traceEvents"] if e["ph"] == "i"}
    assert instants["violation wsgi-001"]["s"] == "t"
    assert instants["phase 2"]["s"] == "g"
    assert "cookie" not in json.dumps(trace)


def test_nest_keeps_what_nests_and_returns_what_straddles() -> None:
    """A slice crossing its parent's end is set aside, siblings and children are kept."""
    parent = (0, 10, None, "p")
    child = (2, 4, None, "c")
    straddler = (8, 12, None, "x")
    sibling = (10, 20, None, "s")
    kept, left = nest([sibling, straddler, child, parent])
    assert kept == [parent, child, sibling] and left == [straddler]


def test_export_writes_next_to_the_recording_by_default(tmp_path: Any) -> None:
    """No -o: ``run.jsonl`` -> ``run.perfetto.json``, a JSON object with traceEvents."""
    rec = _hand_built()
    path = rec.save(tmp_path / "run.jsonl")
    message = export_perfetto(tracer.load(path), ExportOptions())
    out = tmp_path / "run.perfetto.json"
    assert str(out) in message
    check_chrome_trace(json.loads(out.read_text()))


def test_a_big_export_is_streamed_in_slices_and_reads_as_the_whole_trace(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written a few events at a time (slices of 7 here, so every joint is exercised: between
    requests, thread tracks, counters), the file is the very trace built in one piece."""
    from tracer.export import perfetto

    recording = _traced_run([f"/{n}" for n in range(12)]).recording()
    whole = to_chrome_trace(recording)
    monkeypatch.setattr(perfetto, "_SPILL", 7)
    out = tmp_path / "run.perfetto.json"
    message = export_perfetto(recording, ExportOptions(output=str(out)))
    assert json.loads(out.read_text()) == whole
    assert f"wrote {len(whole['traceEvents'])} trace events" in message
    assert len(whole["traceEvents"]) > 5 * 7


def test_simulated_recordings_of_every_model_are_well_formed_traces() -> None:
    """Recordings from the simulator (threads, loop, wsgi-on-loop...) pass every check too."""
    for model in sim.MODEL_NAMES:
        rec = Recorder()
        sim.simulate(sim.SimConfig(model=model, concurrency=8, requests=60, seed=1), recorder=rec)
        trace = to_chrome_trace(rec.recording())
        check_chrome_trace(trace)
        depth = [e["args"]["depth"] for e in trace["traceEvents"] if e["name"] == "queue"]
        assert min(depth, default=0) >= 0, model
        assert calls_under_another_request(trace) == [], model


def calls_under_another_request(trace: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(name, its request, the enclosing slice's request) of each thread slice nested in a slice
    of another request. A simulation ends one request's last call and starts the next one's
    step at the same nanosecond: the call must still close its own request's slice."""
    stacks: dict[tuple[int, int], list[Any]] = defaultdict(list)
    wrong = []
    for event in trace["traceEvents"]:
        if event["ph"] not in "BE":
            continue
        stack = stacks[(event["pid"], event["tid"])]
        if event["ph"] == "E":
            stack.pop()
            continue
        req = event.get("args", {}).get("req")
        if stack and stack[-1] != req:
            wrong.append((event["name"], req, stack[-1]))
        stack.append(req)
    return wrong


def test_a_simulated_threads_run_keeps_each_call_in_its_own_request() -> None:
    """sim threads with exponential I/O: each request's zero-length wsgi.body and wsgi.close
    at its thread's very end (where the next request starts) stay in their own slice."""
    rec = Recorder()
    config = sim.SimConfig(model="threads", threads=2, concurrency=6, requests=40, seed=3)
    sim.simulate(config, recorder=rec)
    trace = to_chrome_trace(rec.recording())
    calls = [e for e in trace["traceEvents"] if e["ph"] == "B" and not e["name"].startswith("#")]
    assert len(calls) == 80  # wsgi.body and wsgi.close of each request, on its thread
    assert calls_under_another_request(trace) == []


def test_a_request_seen_by_client_and_server_processes_is_one_lane() -> None:
    """Queued in the load generator's process, served in a worker: one lane, in the worker."""
    rec = Recorder(start_ns=0, clock=lambda: 0)
    rec.emit(K.REQUEST_QUEUED, 1, {"method": "GET", "path": "/"}, t=0, tid=1, thread="client")
    rec.add(
        _worker_event(K.REQUEST_START, 100, {"method": "GET", "path": "/", "scope_type": "http"})
    )
    rec.add(_worker_event(K.SCHED_STEP, 100, {}, dur=50))
    rec.add(_worker_event(K.REQUEST_END, 400, {"status": 200}))
    trace = to_chrome_trace(rec.recording())
    check_chrome_trace(trace)
    lanes = async_slices(trace)
    assert list(lanes) == [("request", 1)]
    assert sorted(name for _, _, name, _ in lanes[("request", 1)]) == ["GET /", "queued", "step"]
    begins = [e for e in trace["traceEvents"] if e["ph"] == "b"]
    assert {e["pid"] for e in begins} == {777}


def _worker_event(kind: str, t: int, data: dict[str, Any], dur: int | None = None) -> Event:
    """An event of request 1 recorded by worker process 777."""
    return Event(seq=0, t=t, kind=kind, req=1, pid=777, tid=9, thread="worker", dur=dur, data=data)


def test_a_timed_out_request_ends_at_its_first_end() -> None:
    """A client timeout ends the request (the model's request.end); the app's own later end
    does not stretch the request's slice (docs/recording-format.md: readers take the first)."""
    rec = Recorder(start_ns=0, clock=lambda: 0)
    rec.add(
        _worker_event(K.REQUEST_START, 100, {"method": "GET", "path": "/", "scope_type": "http"})
    )
    rec.add(_worker_event(K.SCHED_THREAD, 100, {"cpu_ns": 10}, dur=5_000))
    rec.add(_worker_event(K.REQUEST_END, 2_000, {"status": None, "error": "timeout"}))
    rec.add(_worker_event(K.REQUEST_END, 5_100, {"status": 200, "error": None}))
    trace = to_chrome_trace(rec.recording())
    check_chrome_trace(trace)
    (request,) = [s for s in async_slices(trace)[("request", 1)] if s[2] == "GET /"]
    assert (request[0], request[1]) == (0.1, 2.0)  # µs


def test_a_request_a_real_server_turned_away_lasts_until_its_answer_with_its_status() -> None:
    """uvicorn's 503 past --limit-concurrency: no request.start, only the client's events;
    the request's lane ends at the client's answer and carries the status it got."""
    from tracer.recording import Recording

    ms = 1_000_000
    events = [
        Event(0, 5 * ms, K.CLIENT_SEND, 2, 100, 1, "client"),
        Event(
            1, 5 * ms, K.REQUEST_QUEUED, 2, 100, 1, "client", data={"method": "GET", "path": "/"}
        ),
        Event(2, 6 * ms, K.CLIENT_RESPONSE, 2, 100, 1, "client", data={"status": 503}),
    ]
    trace = to_chrome_trace(Recording(header={"clock": {"unix_ns": 0}}, events=events))
    check_chrome_trace(trace)
    (lifetime, *_) = async_slices(trace)[("request", 2)]
    assert (lifetime[0], lifetime[1]) == (5000.0, 6000.0)
    begin = next(e for e in trace["traceEvents"] if e["ph"] == "b" and e["id"] == 2)
    assert begin["args"].get("status") == 503


def _labels(trace: dict[str, Any], kind: str) -> dict[Any, str]:
    """``process_name`` (by pid) or ``thread_name`` (by (pid, tid)) metadata labels."""
    return {
        (e["pid"] if kind == "process_name" else (e["pid"], e["tid"])): e["args"]["name"]
        for e in trace["traceEvents"]
        if e["ph"] == "M" and e["name"] == kind
    }


@pytest.mark.timeout(60)
def test_the_load_generator_is_not_labelled_a_server_process(tmp_path: Any) -> None:
    """uvicorn in its own process: the trace process, which only sent the load from its
    trace-run thread, is the load generator; uvicorn's process keeps its server label."""
    pytest.importorskip("uvicorn")
    record = tmp_path / "run.jsonl"
    argv = ["run", "sample_apps.hello:asgi_app", "--server", "uvicorn", "-n", "3", "-c", "1"]
    assert main([*argv, "--headless", "--record", str(record)]) == 0
    trace = to_chrome_trace(tracer.load(record))
    check_chrome_trace(trace)
    me = os.getpid()
    processes = _labels(trace, "process_name")
    assert processes.pop(me) == f"load generator (trace) pid {me}"
    assert [f"sample_apps.hello:asgi_app (uvicorn) pid {pid}" for pid in processes] == list(
        processes.values()
    )
    assert len(processes) == 1
    threads = _labels(trace, "thread_name")
    assert [name for (pid, _), name in threads.items() if pid == me] == [
        "trace-run (load generator)"
    ]
    assert all("load generator" not in name for (pid, _), name in threads.items() if pid != me)


def test_a_client_that_gave_up_is_still_the_load_generator() -> None:
    """The trace process's stand-in ``request.end`` (its client timed out, or a stop cancelled
    the request) does not make it a server process: its label stays the load generator's."""
    from tracer.recording import Recording

    ms = 1_000_000
    start = {"method": "GET", "path": "/", "scope_type": "http"}
    events = [
        Event(0, 0, K.CLIENT_SEND, 1, 100, 1, "trace-run"),
        Event(1, 1 * ms, K.REQUEST_START, 1, 200, 2, "MainThread", data=start),
        Event(2, 5 * ms, K.REQUEST_END, 1, 100, 1, "trace-run", data={"error": "timeout"}),
        Event(3, 9 * ms, K.REQUEST_END, 1, 200, 2, "MainThread", data={"status": 200}),
    ]
    header = {"clock": {"unix_ns": 0}, "app": "a:app", "server": {"model": "uvicorn"}}
    trace = to_chrome_trace(Recording(header=header, events=events))
    check_chrome_trace(trace)
    processes = _labels(trace, "process_name")
    assert processes[100] == "load generator (trace) pid 100"
    assert processes[200] == "a:app (uvicorn) pid 200"


def test_an_in_process_servers_client_thread_is_the_load_generator(tmp_path: Any) -> None:
    """The loop model serves in the trace process: the process is the server's, and its
    client thread (only arrivals recorded) is labelled the load generator."""
    record = tmp_path / "run.jsonl"
    argv = ["run", "sample_apps.hello:asgi_app", "-n", "3", "-c", "1", "--headless"]
    assert main([*argv, "--record", str(record)]) == 0
    trace = to_chrome_trace(tracer.load(record))
    me = os.getpid()
    assert _labels(trace, "process_name") == {me: f"sample_apps.hello:asgi_app (loop) pid {me}"}
    threads = sorted(_labels(trace, "thread_name").values())
    assert "trace-run (load generator)" in threads
    assert any(name.endswith("(event loop)") for name in threads)


@pytest.mark.parametrize("simulated", [True, False])
def test_a_demos_bookmarks_make_no_process_of_their_own(simulated: bool) -> None:
    """A demo adds its bookmarks after the run, with no pid: they are global instants, and no
    "pid 1" process or "demo" thread appears beside the ones that served."""
    from tracer.demos import scenario
    from tracer.demos.runner import run_side, with_marks

    recording = run_side(scenario("sync-vs-async"), 0, simulated=simulated, quick=True)
    marked = with_marks(recording, [(recording.events[-1].t, {"label": "here", "caption": "c"})])
    trace = to_chrome_trace(marked)
    check_chrome_trace(trace)
    served = {e.pid or 1 for e in recording.events}
    assert set(_labels(trace, "process_name")) == served
    assert "demo" not in _labels(trace, "thread_name").values()
    (instant,) = [e for e in trace["traceEvents"] if e["ph"] == "i" and e["name"] == "here"]
    assert instant["s"] == "g" and instant["pid"] in served


def test_to_stdout_the_json_is_utf_8_whatever_the_stream_encoding(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``-o -`` on an ASCII stdout (``PYTHONIOENCODING=ascii``, a C locale): the trace's UTF-8
    bytes (the title's "·") go out whole, not a UnicodeEncodeError half-way through."""
    import io
    import sys

    path = _hand_built().save(tmp_path / "run.jsonl")
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stdout)
    assert main(["export", str(path), "--to", "perfetto", "-o", "-"]) == 0
    stdout.flush()
    trace = json.loads(raw.getvalue().decode("utf-8"))
    assert "·" in trace["otherData"]["title"]
    check_chrome_trace(trace)


def test_threads_sharing_a_name_are_numbered_as_the_replay_numbers_them(tmp_path: Any) -> None:
    """A FastAPI app's def endpoints run on anyio workers, all "AnyIO worker thread": their
    Perfetto tracks were named alike; now #1, #2... as the report's Workers rows and the
    replay's lanes (tracer.digest.thread_names) name them."""
    from tracer.demos import SCENARIOS, run_demo
    from tracer.tui.model import build_model

    demo = run_demo(SCENARIOS["threadpool-offload"], simulated=True, lang="en")
    recording = demo.recordings[0]
    threads = _labels(to_chrome_trace(recording), "thread_name")
    anyio = sorted(name for name in threads.values() if name.startswith("AnyIO worker thread"))
    assert len(anyio) > 1 and len(set(anyio)) == len(anyio)
    lanes = {lane.label for lane in build_model(recording).by_worker}
    assert set(anyio) <= lanes

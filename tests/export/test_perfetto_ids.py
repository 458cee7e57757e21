"""Perfetto export of real runs: ids Perfetto can take, one track per thread, a WSGI request's
status, and the load generator's label after client timeouts.

Perfetto's JSON importer reads ``pid`` and ``tid`` as unsigned 32-bit numbers and, for a ``tid``
it cannot read, uses the pid: a Python thread ident (on Linux an address above 2**32) put
every thread of a process on one track. The export numbers threads itself.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from chrome_trace_checks import async_slices, check_chrome_trace, thread_slices

import sim
import tracer
from tracer import events as K
from tracer.cli import main
from tracer.events import Event
from tracer.export.perfetto import to_chrome_trace
from tracer.recorder import Recorder
from tracer.recording import Recording

pytestmark = pytest.mark.timeout(60)

WORKERS = 4


@pytest.fixture(scope="module")
def threads_run(tmp_path_factory: Any) -> Recording:
    """A real run of the threads model, 4 workers, 16 requests of ~5 ms, 8 at a time."""
    record = tmp_path_factory.mktemp("ids") / "run.jsonl"
    argv = ["run", "sample_apps.io_bound:wsgi_app", "--threads", str(WORKERS), "-c", "8"]
    argv += ["-n", "16", "--path", "/?ms=5", "--headless", "--record", str(record)]
    assert main(argv) == 0
    return tracer.load(record)


def _names(trace: dict[str, Any]) -> dict[tuple[int, int], dict[str, Any]]:
    """``(pid, tid) -> thread_name args`` of the trace."""
    return {
        (e["pid"], e["tid"]): e["args"]
        for e in trace["traceEvents"]
        if e["ph"] == "M" and e["name"] == "thread_name"
    }


def test_a_real_threads_run_has_ids_perfetto_takes_and_a_track_per_thread(
    threads_run: Recording,
) -> None:
    """Every pid and tid fits in 31 bits; each recorded thread is one track of its own (its
    recorded ident in its name's args), and each request's time on its worker is a slice on
    that worker's track, nested there."""
    recorded = {(e.pid, e.tid) for e in threads_run.events}
    assert any(tid >= 2**32 for _, tid in recorded)  # what made the tracks collapse
    trace = to_chrome_trace(threads_run)
    check_chrome_trace(trace)
    for event in trace["traceEvents"]:
        assert 0 <= event["pid"] < 2**31 and 0 <= event["tid"] < 2**31, event
    names = _names(trace)
    tracks = {(pid, args["thread_ident"]): key for key, args in names.items() for pid in [key[0]]}
    assert set(tracks) == recorded and len(set(tracks.values())) == len(recorded)
    workers = sorted(args["name"] for args in names.values() if args["name"].startswith("waitress"))
    assert workers == [f"waitress-{n}" for n in range(WORKERS)]
    slices = thread_slices(trace)
    for event in threads_run.events:
        if event.kind != K.SCHED_THREAD:
            continue
        on_track = slices[tracks[(event.pid, event.tid)]]
        begin = [s for s in on_track if s[2].startswith(f"#{event.req} ")]
        assert [(b, e) for b, e, _ in begin] == [(event.t / 1000, event.end / 1000)]


def test_each_wsgi_request_shows_its_status_on_its_row(threads_run: Recording) -> None:
    """``wsgi.start_response`` (recorded without a duration) is an instant on the request's
    row, inside its lifetime, with the status and how many headers (not the headers)."""
    trace = to_chrome_trace(threads_run)
    calls = [e for e in trace["traceEvents"] if e["name"] == K.WSGI_START_RESPONSE]
    assert sorted(e["id"] for e in calls) == list(range(1, 17))
    lanes = async_slices(trace)
    for call in calls:
        assert (call["ph"], call["cat"]) == ("n", "request")
        assert call["args"]["status"] == "200 OK" and call["args"]["header_count"] == 2
        assert "headers" not in call["args"]
        (life,) = [s for s in lanes[("request", call["id"])] if s[3] == 0]
        assert life[0] <= call["ts"] <= life[1]


def test_threads_of_two_processes_never_share_a_number() -> None:
    """The simulator's processes each have a thread 1: Perfetto names a thread by its tid
    alone, so each thread of the trace gets its own number, and none is a pid."""
    rec = Recorder()
    config = sim.SimConfig(model="processes", workers=2, threads=2, concurrency=6, requests=20)
    sim.simulate(config, recorder=rec)
    recording = rec.recording()
    assert len({e.pid for e in recording.events}) == 2
    trace = to_chrome_trace(recording)
    check_chrome_trace(trace)
    names = _names(trace)
    tids = [tid for _, tid in names]
    pids = {pid for pid, _ in names}
    assert len(set(tids)) == len(tids) == len({(e.pid, e.tid) for e in recording.events})
    assert not pids & set(tids)


def test_pids_perfetto_cannot_take_are_renumbered_and_kept_in_the_label() -> None:
    """A hand-made recording's pids beyond 32 bits, or negative, become small numbers no
    other process has; the process's label and args keep the recorded one."""
    start = {"method": "GET", "path": "/", "scope_type": "http"}
    events: list[Event] = []
    for req, pid in enumerate((2**40, -5, 3), 1):
        t = req * 1_000_000
        events += [
            Event(len(events), t, K.REQUEST_START, req, pid, 2**50, "w", data=start),
            Event(len(events) + 1, t, K.SCHED_THREAD, req, pid, 2**50, "w", dur=500_000),
            Event(len(events) + 2, t + 10, K.ERROR, req, pid, 2**50, "w", data={"type": "E"}),
            Event(len(events) + 3, t + 500_000, K.REQUEST_END, req, pid, 2**50, "w"),
        ]
    trace = to_chrome_trace(Recording(header={"app": "a:app"}, events=events))
    check_chrome_trace(trace)
    processes = {e["pid"]: e["args"] for e in trace["traceEvents"] if e["name"] == "process_name"}
    assert processes == {
        1: {"name": f"a:app pid {2**40}", "pid": 2**40},
        2: {"name": "a:app pid -5", "pid": -5},
        3: {"name": "a:app pid 3"},
    }
    instants = defaultdict(list)
    for e in trace["traceEvents"]:
        if e["ph"] == "i":
            instants[e["pid"]].append(e["tid"])
    assert sorted(instants) == [1, 2, 3] and all(
        0 < tid < 2**31 for tids in instants.values() for tid in tids
    )


def test_a_client_thread_that_timed_out_stays_the_load_generator(tmp_path: Path) -> None:
    """An in-process server whose client gives up: the trace-run thread records the timeout's
    ``request.end``, for its client; its track is still labelled the load generator's."""
    record = tmp_path / "run.jsonl"
    argv = ["run", "sample_apps.io_bound:asgi_app", "--path", "/?ms=400", "--timeout", "50ms"]
    assert main([*argv, "-n", "2", "-c", "2", "--headless", "--record", str(record)]) == 0
    recording = tracer.load(record)
    client_ends = [
        e for e in recording.events if e.kind == K.REQUEST_END and e.thread == "trace-run"
    ]
    assert [e.data.get("error") for e in client_ends] == ["timeout", "timeout"]
    names = sorted(args["name"] for args in _names(to_chrome_trace(recording)).values())
    assert "trace-run (load generator)" in names and "trace-run" not in names

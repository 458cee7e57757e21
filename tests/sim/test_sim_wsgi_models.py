"""WSGI models (threads, processes, wsgi-on-loop): FIFO queueing, one request per thread, the GIL."""

from __future__ import annotations

from typing import Any

from tracer import events as K
from tracer.events import Event

MS = 1_000_000


def _shape(events: list[Event]) -> list[tuple[Any, ...]]:
    return [(e.t // MS, e.kind, e.req, e.pid, e.tid, e.thread, e.dur) for e in events]


def test_one_request_exact_events(recorded: Any) -> None:
    """queued on the main thread; start, thread span, start_response, body, close, end on waitress-0."""
    result, recording = recorded(model="threads", concurrency=1, requests=1, cpu="2ms", io="10ms")
    assert _shape(recording.events) == [
        (0, K.REQUEST_QUEUED, 1, 1000, 1, "MainThread", None),
        (0, K.REQUEST_START, 1, 1000, 2, "waitress-0", None),
        (0, K.SCHED_THREAD, 1, 1000, 2, "waitress-0", 12 * MS),
        (12, K.WSGI_START_RESPONSE, 1, 1000, 2, "waitress-0", None),
        (12, K.WSGI_BODY, 1, 1000, 2, "waitress-0", 0),
        (12, K.WSGI_CLOSE, 1, 1000, 2, "waitress-0", 0),
        (12, K.REQUEST_END, 1, 1000, 2, "waitress-0", None),
    ]
    data = {e.kind: e.data for e in recording.events}
    assert data[K.SCHED_THREAD] == {"cpu_ns": 2 * MS, "via": "wsgi"}
    assert data[K.REQUEST_START]["interface"] == "wsgi"
    assert data[K.REQUEST_START]["scope_type"] == "http"
    assert data[K.WSGI_START_RESPONSE]["status"] == "200 OK"
    assert data[K.REQUEST_END] == {
        "status": 200,
        "bytes_in": 0,
        "bytes_out": 13,
        "error": None,
        "close_called": True,
    }
    assert result.header["interface"] == "wsgi" and result.header["source"] == "simulated"


def test_fifo_queue_when_threads_are_busy(recorded: Any) -> None:
    """6 clients, 2 threads, 10 ms of I/O: requests start in arrival order, 2 at a time."""
    result, recording = recorded(model="threads", threads=2, concurrency=6, requests=6, io="10ms")
    starts = [(e.req, e.t // MS, e.thread) for e in recording.events if e.kind == K.REQUEST_START]
    assert starts == [
        (1, 0, "waitress-0"),
        (2, 0, "waitress-1"),
        (3, 10, "waitress-0"),
        (4, 10, "waitress-1"),
        (5, 20, "waitress-0"),
        (6, 20, "waitress-1"),
    ]
    assert result.summary["max_in_flight"] == 2
    assert result.summary["queue_ms"]["max"] == 20.0
    assert result.summary["wall_s"] == 0.03


def test_cpu_bound_threads_take_as_long_as_one(recorded: Any) -> None:
    """One GIL: 40 requests of 10 ms CPU take 400 ms on 8 threads as on 1, and CPU never overlaps."""
    one, _ = recorded(model="threads", threads=1, concurrency=8, requests=40, cpu="10ms")
    eight, recording = recorded(model="threads", threads=8, concurrency=8, requests=40, cpu="10ms")
    assert one.summary["wall_s"] == eight.summary["wall_s"] == 0.4
    assert eight.summary["max_in_flight"] == 8
    assert eight.gil_switches > 0
    spans = [e for e in recording.events if e.kind == K.SCHED_THREAD]
    # Each request's thread span is longer than its CPU time: it waited for the GIL.
    assert all(e.data["cpu_ns"] == 10 * MS for e in spans)
    assert sum(e.dur or 0 for e in spans) > 3 * sum(e.data["cpu_ns"] for e in spans)


def test_processes_divide_cpu_bound_time(recorded: Any) -> None:
    """P processes have P GILs: the same CPU-bound load takes 1/P as long."""
    one, _ = recorded(
        model="processes", workers=1, threads=1, concurrency=8, requests=40, cpu="10ms"
    )
    four, recording = recorded(
        model="processes", workers=4, threads=1, concurrency=8, requests=40, cpu="10ms"
    )
    assert one.summary["wall_s"] == 0.4
    assert four.summary["wall_s"] == 0.1
    pids = {e.pid for e in recording.events if e.kind == K.REQUEST_START}
    assert pids == {1000, 1001, 1002, 1003}
    assert four.header["server"] == {"model": "processes", "threads": 1, "workers": 4}


def test_processes_spread_load(recorded: Any) -> None:
    """With 2 processes × 2 threads and 2 requests at once, each process takes one."""
    _, recording = recorded(
        model="processes", workers=2, threads=2, concurrency=2, requests=2, io="10ms"
    )
    starts = {(e.pid, e.thread) for e in recording.events if e.kind == K.REQUEST_START}
    assert starts == {(1000, "ThreadPoolExecutor-0_0"), (1001, "ThreadPoolExecutor-0_0")}


def test_io_bound_threads_overlap(recorded: Any) -> None:
    """I/O releases the GIL: 8 threads finish 40 requests of 10 ms I/O in 50 ms."""
    result, _ = recorded(model="threads", threads=8, concurrency=8, requests=40, io="10ms")
    assert result.summary["wall_s"] == 0.05


def test_wsgi_on_loop_runs_everything_on_one_thread(recorded: Any) -> None:
    """asgiref's WsgiToAsgi: one executor thread, so 4 clients are served one at a time."""
    result, recording = recorded(
        model="wsgi-on-loop", threads=8, concurrency=4, requests=8, io="20ms"
    )
    threads = {e.thread for e in recording.events if e.kind == K.SCHED_THREAD}
    assert threads == {"ThreadPoolExecutor-0_0"}
    assert result.summary["wall_s"] == 0.16 and result.summary["max_in_flight"] == 1
    assert result.header["server"]["threads"] == 1


def test_chunks_are_produced_with_their_interval(recorded: Any) -> None:
    """A send phase yields chunks 5 ms apart: wsgi.body events with that duration, after start_response."""
    from sim import SimConfig, simulate
    from sim.workload import workload_from_dict
    from tracer.recorder import Recorder

    workload = workload_from_dict(
        {
            "route": [
                {"name": "s", "phases": [{"send": {"chunks": 3, "bytes": 100, "interval": "5ms"}}]}
            ]
        },
        where="test",
    )
    recorder = Recorder()
    simulate(SimConfig(concurrency=1, requests=1, workload=workload), recorder=recorder)
    events = recorder.recording().events
    kinds = [e.kind for e in events if e.kind in (K.WSGI_START_RESPONSE, K.WSGI_BODY)]
    assert kinds == [K.WSGI_START_RESPONSE, K.WSGI_BODY, K.WSGI_BODY, K.WSGI_BODY]
    bodies = [
        (e.t // MS, (e.dur or 0) // MS, e.data["bytes"]) for e in events if e.kind == K.WSGI_BODY
    ]
    assert bodies == [(0, 0, 100), (0, 5, 100), (5, 5, 100)]
    end = [e for e in events if e.kind == K.REQUEST_END][0]
    assert end.t == 10 * MS and end.data["bytes_out"] == 300

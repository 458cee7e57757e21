"""The loop model: steps interleave on one loop thread; CPU and blocking calls hold it."""

from __future__ import annotations

from typing import Any

from sim import SimConfig, simulate
from sim.workload import workload_from_dict
from tracer import events as K
from tracer.recorder import Recorder
from tracer.recording import Recording

MS = 1_000_000


def _run(workload: dict[str, Any], **options: Any) -> tuple[Any, Recording]:
    recorder = Recorder()
    config = SimConfig(model="loop", workload=workload_from_dict(workload, where="test"), **options)
    result = simulate(config, recorder=recorder)
    return result, recorder.recording()


def test_one_request_exact_events(recorded: Any) -> None:
    """queued, start, receive, a 2 ms step awaiting sleep, then send, send, final step, end."""
    _, recording = recorded(model="loop", concurrency=1, requests=1, cpu="2ms", io="10ms")
    shape = [
        (e.t // MS, e.kind, e.thread, e.task, e.dur, e.data.get("awaiting"), e.data.get("type"))
        for e in recording.events
    ]
    assert shape == [
        (0, K.REQUEST_QUEUED, "event-loop", None, None, None, None),
        (0, K.REQUEST_START, "event-loop", "request-1", None, None, None),
        (0, K.ASGI_RECEIVE, "event-loop", "request-1", 0, None, "http.request"),
        (0, K.SCHED_STEP, "event-loop", "request-1", 2 * MS, "asyncio.sleep", None),
        (12, K.ASGI_SEND, "event-loop", "request-1", 0, None, "http.response.start"),
        (12, K.ASGI_SEND, "event-loop", "request-1", 0, None, "http.response.body"),
        (12, K.SCHED_STEP, "event-loop", "request-1", 0, None, None),
        (12, K.REQUEST_END, "event-loop", "request-1", None, None, None),
    ]
    steps = [e.data for e in recording.events if e.kind == K.SCHED_STEP]
    assert steps[0] == {"cpu_ns": 2 * MS, "awaiting": "asyncio.sleep", "location": "sim:inline:io"}
    sends = [e.data for e in recording.events if e.kind == K.ASGI_SEND]
    assert sends[0]["status"] == 200 and sends[1] == {
        "type": "http.response.body",
        "status": None,
        "bytes": 13,
        "more_body": False,
    }
    start = [e for e in recording.events if e.kind == K.REQUEST_START][0]
    assert start.data["interface"] == "asgi" and start.tid == 2 and start.pid == 1000


def test_awaited_io_interleaves(recorded: Any) -> None:
    """5 requests awaiting 50 ms of I/O all run at once: 50 ms in all, 5 in flight."""
    result, recording = recorded(model="loop", concurrency=5, requests=5, io="50ms")
    assert result.summary["wall_s"] == 0.05 and result.summary["max_in_flight"] == 5
    assert not [e for e in recording.events if e.kind == K.LOOP_BLOCKED]


def test_blocking_call_serialises_the_loop(recorded: Any) -> None:
    """A blocking 50 ms call in the handler: 5 requests take 250 ms, steps never overlap."""
    result, recording = recorded(model="loop", concurrency=5, requests=5, blocking_io="50ms")
    assert result.summary["wall_s"] == 0.25
    steps = sorted((e.t, e.end) for e in recording.events if e.kind == K.SCHED_STEP)
    assert all(
        prev_end <= start for (_, prev_end), (start, _) in zip(steps, steps[1:], strict=False)
    )
    blocked = [e for e in recording.events if e.kind == K.LOOP_BLOCKED]
    assert [(e.req, e.dur) for e in blocked] == [(r, 50 * MS) for r in range(1, 6)]
    assert blocked[0].data == {"location": "sim:inline:blocking-io", "delayed": [2, 3, 4, 5]}
    assert blocked[-1].data["delayed"] == []
    assert result.summary["loop_blocked_ms"] == 250.0


def test_cpu_holds_the_loop_and_is_blamed(recorded: Any) -> None:
    """A 20 ms CPU phase blocks the loop; the block names the cpu phase and the delayed request."""
    _, recording = recorded(model="loop", concurrency=2, requests=2, cpu="20ms", io="5ms")
    blocked = [e for e in recording.events if e.kind == K.LOOP_BLOCKED]
    assert blocked[0].data == {"location": "sim:inline:cpu", "delayed": [2]}
    assert blocked[0].task == "request-1"


def test_short_steps_are_not_blocks(recorded: Any) -> None:
    """Steps under the 10 ms threshold produce no loop.blocked."""
    result, recording = recorded(model="loop", concurrency=4, requests=8, cpu="5ms", io="5ms")
    assert not [e for e in recording.events if e.kind == K.LOOP_BLOCKED]
    assert result.summary["loop_blocked_ms"] == 0.0


def test_offload_goes_to_the_pool_and_waits_for_tokens() -> None:
    """Offloaded 100 ms calls, 2 pool tokens, 6 requests: 3 waves on 2 "AnyIO worker thread"s."""
    workload = {"route": [{"name": "r", "phases": [{"offload": {"io": "100ms"}}]}]}
    result, recording = _run(workload, concurrency=6, requests=6, pool_size=2)
    assert result.summary["wall_s"] == 0.3
    hops = [e for e in recording.events if e.kind == K.SCHED_THREAD]
    assert {(e.thread, e.tid) for e in hops} == {
        ("AnyIO worker thread", 3),
        ("AnyIO worker thread", 4),
    }
    assert all(e.data["via"] == "anyio.to_thread" and e.dur == 100 * MS for e in hops)
    awaiting = [e.data["awaiting"] for e in recording.events if e.kind == K.SCHED_STEP]
    assert awaiting.count("anyio.to_thread.run_sync") == 6
    assert result.extra == {"pool_threads": 2, "pool_max_waiting": 4}


def test_sync_route_runs_in_the_pool_and_sends_on_the_loop() -> None:
    """A ``def`` endpoint: step, pool thread for the whole handler, then sends on the loop."""
    workload = {"route": [{"name": "d", "sync": True, "phases": [{"cpu": "5ms"}, {"io": "10ms"}]}]}
    _, recording = _run(workload, concurrency=1, requests=1)
    shape = [(e.t // MS, e.kind, e.thread) for e in recording.events]
    assert shape == [
        (0, K.REQUEST_QUEUED, "event-loop"),
        (0, K.REQUEST_START, "event-loop"),
        (0, K.ASGI_RECEIVE, "event-loop"),
        (0, K.SCHED_STEP, "event-loop"),
        (0, K.SCHED_THREAD, "AnyIO worker thread"),
        (15, K.ASGI_SEND, "event-loop"),
        (15, K.ASGI_SEND, "event-loop"),
        (15, K.SCHED_STEP, "event-loop"),
        (15, K.REQUEST_END, "event-loop"),
    ]
    hop = [e for e in recording.events if e.kind == K.SCHED_THREAD][0]
    assert hop.data == {"cpu_ns": 5 * MS, "via": "anyio.to_thread", "queued_ns": 0}
    assert hop.dur == 15 * MS


def test_pool_threads_share_the_gil_with_the_loop() -> None:
    """CPU in a pool thread and CPU on the loop share one GIL: 2 × 20 ms of CPU take 40 ms."""
    workload = {
        "route": [
            {"name": "a", "phases": [{"cpu": "20ms"}]},
            {"name": "b", "phases": [{"offload": {"cpu": "20ms"}}]},
        ]
    }
    for seed in range(50):  # the first seed that draws "b" then "a": both start at t=0
        result, recording = _run(workload, concurrency=2, requests=2, seed=seed)
        if [e.req for e in recording.events if e.kind == K.SCHED_THREAD] == [1]:
            break
    cpu_steps = [e for e in recording.events if e.kind == K.SCHED_STEP and e.data["cpu_ns"]]
    assert [e.data["location"] for e in cpu_steps] == ["sim:a:return"]
    assert result.summary["wall_s"] == 0.04  # not 0.02: the two CPU bursts took turns
    assert result.gil_switches > 0


def test_chunks_with_intervals_suspend_between_sends() -> None:
    """Three chunks 5 ms apart: bodies at 0, 5, 10 ms with more_body true, then an empty final
    body, as sample_apps.streaming's ASGI app sends them."""
    workload = {
        "route": [
            {"name": "s", "phases": [{"send": {"chunks": 3, "bytes": 10, "interval": "5ms"}}]}
        ]
    }
    _, recording = _run(workload, concurrency=1, requests=1)
    bodies = [
        (e.t // MS, e.data["more_body"], e.data["bytes"])
        for e in recording.events
        if e.kind == K.ASGI_SEND and e.data["type"] == "http.response.body"
    ]
    assert bodies == [(0, True, 10), (5, True, 10), (10, True, 10), (10, False, 0)]
    awaiting = [e.data["awaiting"] for e in recording.events if e.kind == K.SCHED_STEP]
    assert awaiting == ["asyncio.sleep", "asyncio.sleep", None]

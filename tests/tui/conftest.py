"""Deterministic recordings for the UI tests.

Two hand-built shapes whose every time is known (``tracer.tui.examples``: a 4-thread WSGI run
with queueing, an error and a violation; an ASGI loop run with interleaved steps and one
``loop.blocked``), and the same two shapes from the simulator, which snapshot tests use.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracer import events as K
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.recording import Recording, make_header
from tracer.tui.examples import loop_example, threads_example


def write_recording(recording: Recording, path: Path) -> Path:
    """Write ``recording`` as a .jsonl file."""
    lines = [json.dumps(recording.header)] + [json.dumps(e.to_dict()) for e in recording.events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def simulated(model: str, requests: int = 12, concurrency: int = 6) -> Recording:
    """A small simulated run of ``model`` (``threads``: CPU + I/O; ``loop``: one blocking call
    per request that holds the loop past the 10 ms threshold)."""
    from sim import SimConfig, inline_workload, parse_dist, simulate

    if model == "threads":
        workload = inline_workload(cpu=parse_dist("3ms"), io=parse_dist("exp:10ms"))
    else:
        workload = inline_workload(
            cpu=parse_dist("1ms"), io=parse_dist("10ms"), blocking_io=parse_dist("fixed:12ms")
        )
    recorder = Recorder()
    config = SimConfig(
        model=model, requests=requests, concurrency=concurrency, workload=workload, seed=1
    )
    simulate(config, recorder=recorder)
    return recorder.recording()


@pytest.fixture
def threads_rec() -> Recording:
    """Hand-built WSGI run: 10 requests, 4 worker threads, #5 fails, #2 breaks a rule."""
    return threads_example(10, 4)


@pytest.fixture
def loop_rec() -> Recording:
    """Hand-built ASGI run: 8 requests on one loop, #3 blocks it for 30 ms."""
    return loop_example(8)


@pytest.fixture
def sim_threads() -> Recording:
    """Simulated WSGI threads run (stable: fixed seed, virtual time)."""
    return simulated("threads")


@pytest.fixture
def sim_loop() -> Recording:
    """Simulated ASGI loop run with blocking calls."""
    return simulated("loop")


@pytest.fixture
def timed_out_rec() -> Recording:
    """Hand-built WSGI run on two threads whose client gives up after 50 ms: #1 and #2 sleep
    120 ms (each ends twice, the model's ``timeout`` and then the app's own 200), #3 computes
    20 ms and is answered in time."""
    ms = 1_000_000
    header = make_header(
        app="sample_apps.io_bound:wsgi_app",
        interface="wsgi",
        server={"model": "threads", "threads": 2},
        monotonic_ns=0,
        unix_ns=0,
    )
    timeout = {"status": None, "bytes_in": 0, "bytes_out": 0, "error": "timeout"}
    late = {"status": 200, "bytes_in": 0, "bytes_out": 5, "error": None}
    events: list[Event] = []

    def request(req: int, tid: int, at: int, took: int, cpu: int, ended: int | None) -> None:
        """One request on thread ``tid`` from ``at`` for ``took`` ms (``cpu`` of it on the
        CPU), its client giving up at ``ended`` ms when not None."""
        scope = {"method": "GET", "path": "/", "interface": "wsgi", "scope_type": "http"}
        base = {"pid": 1, "thread": f"worker-{tid}"}
        events.append(Event(0, at * ms, K.REQUEST_QUEUED, req, data=dict(scope)))
        events.append(Event(0, at * ms, K.REQUEST_START, req, tid=tid, **base, data=scope))
        run = {"cpu_ns": cpu * ms, "via": "wsgi"}
        events.append(
            Event(0, at * ms, K.SCHED_THREAD, req, tid=tid, dur=took * ms, **base, data=run)
        )
        if ended is not None:
            events.append(Event(0, ended * ms, K.REQUEST_END, req, pid=1, data=timeout))
        events.append(Event(0, (at + took) * ms, K.REQUEST_END, req, tid=tid, **base, data=late))

    request(1, 11, 0, 120, 1, 50)
    request(2, 12, 5, 120, 1, 55)
    request(3, 11, 120, 20, 19, None)
    events.sort(key=lambda event: event.t)
    return Recording(header, [event._replace(seq=seq) for seq, event in enumerate(events)])


@pytest.fixture
def anyio_backend() -> str:
    """Pilot tests run on asyncio (Textual's loop), through anyio's pytest plugin."""
    return "asyncio"

"""A callback that held the loop outside any request's step counts in the loop's busy time.

The watchdog records such a callback (``loop.call_soon(time.sleep, ...)``, a protocol's
``data_received``) as a ``loop.blocked`` with no request and ``outside_step: true``. It was in
the loop-blocked total and the by-place table, but not in the Workers table: the loop read 1%
busy through a run it was blocked for most of. Its place is its line, or "a callback outside
any request" when the watchdog saw none.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from rich.console import Console

from tracer import events as K
from tracer.digest import CALLBACK_PLACE, Digest
from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.report import print_report
from tracer.run import RunConfig, run
from tracer.summary import summarize

MS = 1_000_000

FLUSHING = """\
import asyncio
import time


def flush_metrics():
    time.sleep(0.03)  # line 6: the callback holds the loop


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    asyncio.get_running_loop().call_soon(flush_metrics)
    await asyncio.sleep(0.002)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""


def _report(recording: Recording, digest: Digest) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None)
    print_report(recording, summarize(recording), console=console, details=digest.details())
    return [line.rstrip() for line in out.getvalue().splitlines()]


def test_callbacks_count_in_the_loops_busy_time_and_by_place() -> None:
    """Steps of 1 and 2 ms, a callback of 50 ms at app.py:7 and one of 10 ms with no line:
    the loop was busy 63 ms, the places are the line and the callback."""
    recorder = Recorder(app="app:app", interface="asgi")
    at: dict[str, Any] = {"pid": 7, "tid": 1, "thread": "event-loop"}
    start = {"method": "GET", "path": "/", "query": "", "scope_type": "http"}
    recorder.emit(K.REQUEST_START, 1, start, t=0, **at)
    recorder.emit(K.SCHED_STEP, 1, {"cpu_ns": MS}, t=0, dur=MS, **at)
    recorder.emit(K.LOOP_BLOCKED, None, {"location": "app.py:7", "outside_step": True, "delayed": [1]}, t=2 * MS, dur=50 * MS, **at)  # fmt: skip
    recorder.emit(K.LOOP_BLOCKED, None, {"outside_step": True, "delayed": []}, t=60 * MS, dur=10 * MS, **at)  # fmt: skip
    recorder.emit(K.SCHED_STEP, 1, {"cpu_ns": MS}, t=80 * MS, dur=2 * MS, **at)
    recorder.emit(K.REQUEST_END, 1, {"status": 200}, t=82 * MS, **at)
    recording = recorder.recording()
    digest = Digest()
    digest.feed(recording.events)
    lines = _report(recording, digest)
    places = lines.index("Loop blocked 60.0 ms, by place")
    assert lines[places + 5 : places + 7] == [
        "│ app.py:7                       │     1 │     50.0 │   50.0 │        1 │",
        f"│ {CALLBACK_PLACE} │     1 │     10.0 │   10.0 │        0 │",
    ]
    workers = lines.index("Workers")
    assert lines[workers + 4] == "│ event-loop │        1 │    63.0 │       2.0 │         77% │"


def test_a_blocking_callback_makes_the_loop_busy_in_a_real_run(tmp_path: Path) -> None:
    """An app that schedules ``time.sleep`` with ``call_soon``, run in-process (the loop
    model, four requests one at a time): the loop's busy time is its steps and the blocks of
    the callback, as recorded; the callback's blocks are at its line."""
    (tmp_path / "flushing.py").write_text(FLUSHING)
    recorder = Recorder()
    config = RunConfig(app=f"{tmp_path / 'flushing.py'}:app", requests=4, concurrency=1)
    run(config, recorder)
    recording = recorder.recording()
    events = recording.events
    callbacks = [e for e in events if e.kind == K.LOOP_BLOCKED and e.data.get("outside_step")]
    assert callbacks  # the watchdog saw the callbacks (each holds the loop 30 ms)
    (loop,) = {(e.pid, e.tid) for e in events if e.kind == K.SCHED_STEP}
    assert {(e.pid, e.tid) for e in callbacks} == {loop}
    lifespan = {
        e.req for e in events if e.kind == K.REQUEST_START and e.data["scope_type"] == "lifespan"
    }  # its steps are not the load's
    steps = [
        e
        for e in events
        if e.kind == K.SCHED_STEP and (e.pid, e.tid) == loop and e.req not in lifespan
    ]
    digest = Digest()
    digest.feed(events)
    details = digest.details()
    (worker,) = [w for w in details.workers if (w.pid, w.tid) == loop]
    busy_ns = sum(e.dur or 0 for e in steps) + sum(e.dur or 0 for e in callbacks)
    assert worker.busy_ms == round(busy_ns / MS, 3)
    (place,) = [c for c in details.culprits if c.location.endswith("flushing.py:6")]
    assert place.count == len(callbacks)

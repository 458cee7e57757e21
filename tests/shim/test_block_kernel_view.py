"""Loop blocking on a busy machine: the kernel's view tells a step's own block from its waits.

A step can last past the threshold without doing anything itself: its thread waited on a run
queue (the machine was busy: descheduled) or for the GIL while other threads of the process
computed (the tool's own: the load generator, the recorder's writer, the dashboard). Such a
``loop.blocked`` says so (``starved``, ``descheduled_ns``, ``others_busy``); one the step made
itself carries none of it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from busy_threads import blocks_beside_busy_threads, within_three_runs

from tracer import events as K
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.shim import blocking, kernel
from tracer.shim.steps import Stepper

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(kernel.READ is None, reason="the kernel's view is Linux's"),
]


def _blocks(rec: Recorder) -> list[dict[str, Any]]:
    # Steps' blocks only (the in-loop client's callbacks may be blocks outside any step).
    return [dict(e.data) for e in rec.events if e.kind == K.LOOP_BLOCKED and e.req is not None]


def test_a_step_that_sleeps_is_its_own_block() -> None:
    """``time.sleep(0.05)`` in ``async def`` blocks the loop by itself: whatever the kernel
    says of the step (its own time is the 50 ms sleep at least), it is the app's block, with
    nothing said beyond where and whom it delayed, how long it waited for a CPU (when the
    kernel's view was read) and, should a garbage collection run in it, how long that
    took."""
    from shim_asgi_apps import fetch, traced

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        time.sleep(0.05)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    shim, rec = traced(app)
    responses = asyncio.run(fetch(shim, "/1", "/2"))
    assert [r.status_code for r in responses] == [200, 200]
    blocked = _blocks(rec)
    assert len(blocked) == 2
    # gc_ns only when a collection happened to run in the step (the suite's own garbage)
    ours = {"gc_ns", "descheduled_ns"}
    assert all(set(data) - ours == {"location", "delayed"} for data in blocked), blocked


def test_a_step_kept_from_the_gil_by_a_busy_thread_of_the_process_is_starved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Threads of the process that compute, registered nowhere (as the recorder's writer or
    the load generator of ``trace run``), take the GIL from the loop: its short steps that
    then last past the threshold waited, and say so, with how busy the others were.

    The verdict on a GIL wait needs a look of the watchdog's inside the step, and the watchdog
    waits for the GIL too: up to three runs, as in ``test_blocking``'s hop tests."""
    monkeypatch.setitem(blocking._THRESHOLDS, "min", 8_000_000)

    def run() -> list[Event]:
        blocked = blocks_beside_busy_threads(name="gateway-tracer-writer")
        for data in (e.data for e in blocked if e.data.get("starved")):
            assert data["others_busy"] >= 0.25 or data["descheduled_ns"] > 0, data
            # location_from: "step" when no sample of the watchdog's landed in the step; gc_ns
            # when a collection of the suite's own garbage ran in it.
            assert set(data) - {"location_from", "gc_ns"} == {
                "location",
                "delayed",
                "others_busy",
                "starved",
                "descheduled_ns",
            }
        # A block it does not clear stays the app's, as before: nothing more is said (but its
        # run-queue wait, when the kernel's view was read, and a collection's time).
        ours = {"location_from", "descheduled_ns", "gc_ns"}
        plain = [e.data for e in blocked if not e.data.get("starved")]
        assert all(set(data) - ours == {"location", "delayed"} for data in plain), plain
        return blocked

    within_three_runs(
        run,
        lambda blocked: any(
            e.data.get("starved") and e.data["others_busy"] >= 0.25 for e in blocked
        ),
    )


_HOG = """
import os, sys, time
os.sched_setaffinity(0, {%d})
print("ready", flush=True)
end = time.monotonic() + 30  # bounded, whatever happens to the test
while time.monotonic() < end:
    pass
"""


def test_a_step_another_process_keeps_off_the_cpu_is_descheduled() -> None:
    """Another process computing on the loop thread's one core (both pinned to it; the loop
    thread at nice 10, so that it gets a tenth of that core): steps of 1 ms of CPU that its
    slices cut wait on the run queue for many ms. Such blocks are starved, with the run-queue
    wait the kernel counted, and the app's line still named.

    The bound on a step's wait needs a look of the watchdog's from before the step that found
    the loop thread in a system call, not waiting for a CPU: up to six runs (on a machine
    busy with other work, the watchdog's looks find it waiting for a CPU more often)."""
    core = max(os.sched_getaffinity(0))
    seen: list[list[dict[str, Any]]] = []
    for _ in range(6):
        blocked = _run_beside_a_hog(core)
        seen.append(blocked)
        # Every block the kernel was asked about says its wait; these are the ones it cleared.
        descheduled = [
            data for data in blocked if data.get("starved") and data.get("descheduled_ns", 0) > 0
        ]
        for data in descheduled:
            assert data["starved"] is True, data
            if data.get("location_from") != "step":  # else no sample landed: its own place
                assert "test_block_kernel_view.py" in str(data["location"]), data
        if descheduled:
            return
    raise AssertionError(f"no block descheduled in six runs: {seen}")


def _run_beside_a_hog(core: int) -> list[dict[str, Any]]:
    """Six requests of four 1 ms steps on a loop thread sharing ``core`` with a busy process."""
    hog = subprocess.Popen([sys.executable, "-c", _HOG % core], stdout=subprocess.PIPE, text=True)
    rec = Recorder()
    errors: list[BaseException] = []

    async def app() -> None:
        for _ in range(4):
            _burn_here(0.001)
            await asyncio.sleep(0)

    async def main() -> None:
        # The first traced step starts the watchdog from this thread: before it is pinned,
        # so that the watchdog keeps every core and its nice.
        tid, name = threading.get_ident(), threading.current_thread().name
        await Stepper(asyncio.sleep(0), 1, rec, 5_000_000, "warm", tid, name)
        os.sched_setaffinity(0, {core})  # this thread only
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        steppers = [
            Stepper(app(), req, rec, 5_000_000, f"r{req}", tid, name) for req in range(2, 8)
        ]
        await asyncio.gather(*(asyncio.ensure_future(_await(s)) for s in steppers))

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # reported by the test's thread
            errors.append(exc)

    try:
        assert hog.stdout is not None and hog.stdout.readline().strip() == "ready"
        blocking.watch_threshold(5_000_000)
        thread = threading.Thread(target=run, name="pinned-loop")
        thread.start()
        thread.join(40)
        assert not thread.is_alive()
    finally:
        hog.kill()
        hog.wait(10)
    assert not errors, errors
    return _blocks(rec)


def _burn_here(seconds: float) -> None:
    """``busy_threads.burn`` in this file: the line the watchdog names is then this file's."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


async def _await(stepper: Stepper) -> Any:
    return await stepper

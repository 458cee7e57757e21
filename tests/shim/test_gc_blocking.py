"""Loop blocking by garbage collection: a ``loop.blocked`` says how much of it was collecting.

A cyclic collection runs on the thread that allocates past the collector's threshold, the loop
thread among them, and the step it runs in lasts that much longer. Automatic collection is off
in these tests (``no_automatic_gc``): the only collections are the ones an app or a test asks
for, so which block has ``gc_ns`` is exact.
"""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tracer import events as K
from tracer.gc_pause import paused_gc
from tracer.shim.gc_time import Collections

pytestmark = pytest.mark.timeout(60)

CYCLES = 100_000
"""Cyclic garbage made before a collection: some tens of ms to collect, past the 10 ms
threshold."""


@pytest.fixture
def no_automatic_gc() -> Iterator[None]:
    """Automatic collection off for the test; the garbage it made collected after it."""
    try:
        with paused_gc():
            yield
    finally:
        gc.collect()


def make_cycles(count: int = CYCLES) -> None:
    """``count`` lists that refer to themselves, dropped: only a collection frees them."""
    for _ in range(count):
        cycle: list[Any] = []
        cycle.append(cycle)


def _burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


async def _respond(send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_a_step_that_collects_garbage_says_so_and_one_that_computes_does_not(
    no_automatic_gc: None,
) -> None:
    """``/collect`` runs ``gc.collect()`` of a big cyclic heap in its step: nearly all of its
    block was collecting (``gc_ns`` at most ``dur``, over half of it). ``/compute`` burns 30 ms
    of CPU with no collection: its block carries no ``gc_ns``."""
    from shim_asgi_apps import fetch, traced

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["path"] == "/collect":
            gc.collect()
        else:
            _burn(0.03)
        await _respond(send)

    shim, rec = traced(app)
    make_cycles()
    responses = asyncio.run(fetch(shim, "/collect", "/compute"))
    assert [r.status_code for r in responses] == [200, 200]
    paths = {e.req: e.data["path"] for e in rec.events if e.kind == K.REQUEST_START}
    # The steps' blocks (a callback outside them may block too on a loaded machine).
    blocks = {paths[e.req]: e for e in rec.events if e.kind == K.LOOP_BLOCKED and e.req is not None}
    assert sorted(blocks) == ["/collect", "/compute"]
    collect, compute = blocks["/collect"], blocks["/compute"]
    assert collect.dur is not None and 0 < collect.data["gc_ns"] <= collect.dur
    assert 2 * collect.data["gc_ns"] > collect.dur, collect.data
    assert "gc_ns" not in compute.data, compute.data
    # The rest of what a block of the app's own says is unchanged.
    # (location_from: "step" when no sample of the watchdog's landed in the step;
    # descheduled_ns: its run-queue wait, on every block the kernel's view was read for.)
    ours = {"location_from", "descheduled_ns"}
    assert set(compute.data) - ours == {"location", "delayed"}
    assert set(collect.data) - ours == {"location", "delayed", "gc_ns"}


def test_a_collection_on_another_thread_is_not_the_loop_threads(no_automatic_gc: None) -> None:
    """A step that waits (in a lock wait, the GIL given up) while another thread collects
    lasts as long as that collection, but none of it ran on the loop thread: no ``gc_ns``."""
    from shim_asgi_apps import fetch, traced

    go, done = threading.Event(), threading.Event()

    def collector() -> None:
        go.wait(30)
        gc.collect()
        done.set()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        go.set()
        done.wait(30)
        await _respond(send)

    shim, rec = traced(app)
    make_cycles()
    thread = threading.Thread(target=collector)
    thread.start()
    try:
        responses = asyncio.run(fetch(shim, "/"))
    finally:
        go.set()
        thread.join(30)
    assert [r.status_code for r in responses] == [200]
    blocked = [e for e in rec.events if e.kind == K.LOOP_BLOCKED and e.req is not None]
    assert len(blocked) == 1
    assert "gc_ns" not in blocked[0].data, blocked[0].data


_HOOK_LIFETIME = """
import asyncio, gc, sys
import tracer
from tracer.shim import blocking, gc_time

seen = []

async def app(scope, receive, send):
    seen.append((gc_time._on_gc in gc.callbacks, blocking._WATCHDOG["thread"]))
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})

async def call():
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        pass
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": "/", "raw_path": b"/",
             "query_string": b"", "root_path": "", "headers": [], "client": None,
             "server": None}
    await tracer.instrument(app, recorder=tracer.Recorder())(scope, receive, send)

gc.disable()  # no collection of the interpreter's own may race the checks below
asyncio.run(call())  # closes its loop: the only one traced
[(installed, watchdog)] = seen
assert installed and watchdog is not None, seen
watchdog.join(30)  # its next wake-up finds no traced loop open
assert not watchdog.is_alive()
assert blocking._WATCHDOG["thread"] is None
assert gc_time._on_gc not in gc.callbacks
print("ok")
"""


def test_the_gc_hook_is_installed_while_the_watchdog_runs_and_removed_when_it_stops() -> None:
    """The hook is in ``gc.callbacks`` while a traced loop's watchdog runs; once every traced
    loop is closed the watchdog stops and takes it out: untraced code pays nothing. In a
    process of its own: a loop another test left open would keep the watchdog running."""
    done = subprocess.run(
        [sys.executable, "-c", _HOOK_LIFETIME], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr


def test_collections_sums_the_collecting_time_inside_a_span() -> None:
    """What ``collecting_ns`` reads: the collections' overlap with a step's span; one shorter
    than 0.1 ms, older ones pushed out of the ring, or one whose start the hook did not see,
    counted as none (a bound from below)."""
    ms = 1_000_000
    times = Collections()
    for start, stop in [(10, 20), (30, 45), (50, 60)]:
        times.began = start * ms
        times.ended(stop * ms)
    assert times.within(0, 100 * ms) == (10 + 15 + 10) * ms
    assert times.within(40 * ms, 55 * ms) == (5 + 5) * ms  # cut at both ends
    assert times.within(60 * ms, 100 * ms) == 0  # a collection ended as the span began
    assert times.within(21 * ms, 29 * ms) == 0
    times.began = 70 * ms
    times.ended(70 * ms + Collections.SHORTEST_NS - 1)  # too short to be kept
    assert times.within(0, 100 * ms) == 35 * ms
    for n in range(Collections.SIZE):  # push the first three out
        times.began = (100 + 2 * n) * ms
        times.ended((101 + 2 * n) * ms)
    assert times.within(0, 1_000 * ms) == Collections.SIZE * ms
    assert Collections().within(0, 1_000 * ms) == 0
    unseen = Collections()  # the hook went in while a collection ran: its start is unknown
    unseen.ended(5 * ms)
    assert unseen.within(0, 10 * ms) == 0

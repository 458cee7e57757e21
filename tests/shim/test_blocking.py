"""Loop blocking: who a blocking step delayed, told from what each traced request waits for."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from busy_threads import blocks_beside_busy_threads, burn, within_three_runs

from tracer import events as K
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.shim import blocking, kernel
from tracer.shim.blocking import loop_state
from tracer.shim.steps import Stepper

pytestmark = pytest.mark.timeout(60)


def _line_of(marker: str) -> int:
    """The line of this file where ``time.sleep`` carries the comment ``marker``."""
    lines = Path(__file__).read_text().splitlines()
    return next(n for n, text in enumerate(lines, 1) if marker in text and "time.sleep" in text)


def traced(coro: Any, req: int, rec: Recorder) -> Any:
    """Drive ``coro`` as request ``req`` (20 ms threshold) inside a task."""
    stepper = Stepper(coro, req, rec, 20_000_000, f"r{req}", threading.get_ident(), "main")

    async def run() -> Any:
        return await stepper

    return asyncio.ensure_future(run())


def test_the_requests_ready_during_a_block_are_the_delayed_ones() -> None:
    """Delayed: a bare yield, a future completed, a timer due; not a timer still far away."""
    rec = Recorder()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        released = loop.create_future()

        async def yields() -> None:  # 1: back in the ready queue at once
            await asyncio.sleep(0)
            await asyncio.sleep(0)

        async def waits_for_future() -> None:  # 2: its future completes during the block
            await released

        async def far_timer() -> None:  # 3: its timer is not due when the block ends
            await asyncio.sleep(5)

        async def near_timer() -> None:  # 4: its timer falls due during the block
            await asyncio.sleep(0.01)

        async def blocker() -> None:  # 5: holds the loop for 60 ms
            released.set_result(None)
            time.sleep(0.06)

        tasks = [
            traced(coro, req, rec)
            for req, coro in enumerate(
                [yields(), waits_for_future(), far_timer(), near_timer(), blocker()], 1
            )
        ]
        await asyncio.wait(tasks[:2] + tasks[3:])
        tasks[2].cancel()
        await asyncio.gather(tasks[2], return_exceptions=True)

    asyncio.run(main())
    blocked = [e for e in rec.events if e.kind == K.LOOP_BLOCKED and e.req == 5]
    assert len(blocked) == 1
    assert blocked[0].data["delayed"] == [1, 2, 4]


def test_timers_that_fell_due_before_the_blocking_turn_count_as_delayed() -> None:
    """Timers that fell due before the loop's turn began wait in its ready queue, behind a
    step already queued that then blocks (their futures not yet done): delayed too."""
    rec = Recorder()

    async def main() -> None:
        go = asyncio.get_running_loop().create_future()

        async def blocker() -> None:  # 1: woken first, then holds the loop
            await go
            time.sleep(0.04)

        async def sleeper() -> None:  # 2-5: their timers queue up behind it
            await asyncio.sleep(0.01)

        tasks = [traced(blocker(), 1, rec)] + [traced(sleeper(), n, rec) for n in range(2, 6)]
        await asyncio.sleep(0)  # every request is waiting now
        go.set_result(None)  # the blocker's wake-up is queued...
        time.sleep(0.03)  # ...(untraced) and every timer falls due behind it
        await asyncio.gather(*tasks)

    asyncio.run(main())
    # Steps' blocks only: the test's own untraced task may hold the loop as a callback too.
    blocked = [e for e in rec.events if e.kind == K.LOOP_BLOCKED and e.req is not None]
    assert [(e.req, e.data["delayed"]) for e in blocked] == [(1, [2, 3, 4, 5])]


def test_loop_state_is_one_per_loop_and_tracks_requests_in_flight() -> None:
    """Each event loop has its own state; a request is in flight only while it is driven."""
    rec = Recorder()
    seen: list[Any] = []

    async def app() -> None:
        state = loop_state(None)
        seen.append((state, len(state.active) if state else None))
        await asyncio.sleep(0)

    async def main() -> Any:
        await traced(app(), 1, rec)
        state = loop_state(None)
        return state, len(state.active) if state else None

    after_first = asyncio.run(main())
    after_second = asyncio.run(main())
    assert seen[0] == (after_first[0], 1) and after_first[1] == 0
    assert after_first[0] is not after_second[0]
    assert loop_state(None) is None  # no running loop: no loop-wide view


def test_the_watchdog_parks_while_no_traced_step_runs_and_a_step_wakes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An idle traced loop costs no wake-ups; the next blocking step is still sampled (its
    location is the blocking line, which only the watchdog's samples can name: when the step
    ends, the coroutine is suspended on the line after it)."""
    monkeypatch.setattr(blocking, "PARK_AFTER_S", 0.05)
    rec = Recorder()
    idle_wakes: list[int] = []

    async def quick() -> None:
        await asyncio.sleep(0)

    async def blocks() -> None:
        time.sleep(0.08)  # BLOCKING LINE
        await asyncio.sleep(0)

    async def main() -> None:
        await traced(quick(), 1, rec)
        for _ in range(100):  # idle, the loop alive: wait for the watchdog to park
            await asyncio.sleep(0.01)
            if blocking._WATCHDOG["parked"]:
                break
        assert blocking._WATCHDOG["parked"]
        before = blocking._WATCHDOG["wakes"]
        await asyncio.sleep(0.1)
        idle_wakes.append(blocking._WATCHDOG["wakes"] - before)
        await traced(blocks(), 2, rec)

    asyncio.run(main())
    assert idle_wakes == [0]
    blocked = [e for e in rec.events if e.kind == K.LOOP_BLOCKED and e.req is not None]
    assert [e.req for e in blocked] == [2]
    assert blocked[0].data["location"].endswith(f"test_blocking.py:{_line_of('# BLOCKING LINE')}")


def test_a_loop_first_traced_while_the_watchdog_is_parked_wakes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new loop's state starts parked when the watchdog is: its first step wakes it."""
    monkeypatch.setattr(blocking, "PARK_AFTER_S", 0.05)
    rec = Recorder()
    parked = threading.Event()
    done = threading.Event()

    async def idle_loop() -> None:  # keeps one traced loop alive and idle
        await traced(asyncio.sleep(0), 1, rec)
        while not done.is_set():
            await asyncio.sleep(0.01)
            if blocking._WATCHDOG["parked"]:
                parked.set()

    async def blocks() -> None:
        time.sleep(0.08)  # SECOND LOOP BLOCKS
        await asyncio.sleep(0)

    thread = threading.Thread(target=asyncio.run, args=(idle_loop(),))
    thread.start()
    try:
        assert parked.wait(10)

        async def second() -> None:
            await traced(blocks(), 2, rec)

        asyncio.run(second())
    finally:
        done.set()
        thread.join(10)
    blocked = [e for e in rec.events if e.kind == K.LOOP_BLOCKED and e.req is not None]
    assert [e.req for e in blocked] == [2]
    assert (
        blocked[0].data["location"].endswith(f"test_blocking.py:{_line_of('# SECOND LOOP BLOCKS')}")
    )


def test_the_location_named_is_the_busiest_line_of_the_busiest_function() -> None:
    """A CPU loop's samples spread over its lines; a GIL-releasing call (a socket write under
    ``await send``) draws them to one line. The function seen most wins, then its line seen
    most, ties to the first seen."""
    burn, app = "app.py:20", "app.py:30"
    counts = {
        (burn, "app.py:21"): 2,
        (burn, "app.py:22"): 2,
        (burn, "app.py:23"): 1,
        (app, "app.py:35"): 3,  # await send
    }
    assert blocking.most_seen(counts) == "app.py:21"
    assert blocking.most_seen({(app, "app.py:35"): 1, (burn, "app.py:21"): 1}) == "app.py:35"
    assert blocking.most_seen({}) is None


def test_a_loop_step_kept_waiting_for_the_gil_by_offloaded_work_is_starved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CPU work moved to threads (``asyncio.to_thread``) still takes the GIL from the loop:
    the loop's steps that then last past the threshold did not run, they waited. Such a
    ``loop.blocked`` says how busy the other threads were and that it was starved.

    The verdict needs a watchdog sample inside the wait, and the watchdog waits for the GIL
    too: a run of ten requests can end with no sampled block (about one in fifteen here), so
    up to three runs are made; every starved block must be right in each.
    """
    from shim_asgi_apps import fetch, traced

    # The sampling period this test means, whatever threshold earlier tests set.
    monkeypatch.setitem(blocking._THRESHOLDS, "min", 8_000_000)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        for _ in range(3):  # each resume must win the GIL back from the other threads
            await asyncio.to_thread(burn, 0.04)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    seen: list[list[dict[str, Any]]] = []
    for _ in range(3):
        shim, rec = traced(app, block_threshold_ms=8)
        responses = asyncio.run(fetch(shim, *(f"/{n}" for n in range(10))))
        assert [r.status_code for r in responses] == [200] * 10
        blocked = [e for e in rec.events if e.kind == K.LOOP_BLOCKED and e.req is not None]
        seen.append([dict(e.data) for e in blocked])
        # On a loaded machine the OS may also deschedule the loop thread, a block of another
        # kind: some, not all, are starved.
        starved = [e for e in blocked if e.data.get("starved")]
        assert all(e.data["others_busy"] >= 0.25 for e in starved)
        if starved:
            return
    raise AssertionError(f"no block starved in three runs: {seen}")


def test_a_loop_step_that_computes_itself_is_not_called_starved() -> None:
    """No thread hops in flight: the step's own code held the loop, and nothing more is
    claimed about it (the process's CPU clock is not even read)."""
    from shim_asgi_apps import fetch, traced

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        burn(0.03)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    shim, rec = traced(app)
    asyncio.run(fetch(shim, "/1", "/2"))
    blocked = [e for e in rec.events if e.kind == K.LOOP_BLOCKED and e.req is not None]
    assert len(blocked) == 2
    # (descheduled_ns: its run-queue wait, on every block the kernel's view was read for;
    # gc_ns should a collection of the suite's garbage run in the step)
    ours = {"location_from", "descheduled_ns", "gc_ns"}
    assert all(set(e.data) - ours == {"location", "delayed"} for e in blocked), blocked


def test_starved_needs_little_cpu_and_samples_in_a_lock_wait_beside_busy_threads() -> None:
    """The verdict's rule, case by case (10 ms threshold)."""
    ms = 1_000_000
    waited = blocking.Sample((object(), 0))  # type: ignore[arg-type]
    waited.checked, waited.lock_waits = 4, 4
    asleep = blocking.Sample((object(), 0))  # type: ignore[arg-type]
    asleep.checked, asleep.lock_waits = 4, 3  # one sample caught a sleep or I/O: its own block
    block = 10 * ms
    assert kernel.contention(waited, 40 * ms, 1 * ms, 38 * ms, block) == {
        "others_busy": 0.95,
        "starved": True,
    }
    # Samples in a lock wait: the others need only have done something (a busy machine).
    assert kernel.contention(waited, 40 * ms, 1 * ms, 16 * ms, block)["starved"] is True
    assert kernel.contention(waited, 40 * ms, 1 * ms, 4 * ms, block)["starved"] is False
    assert kernel.contention(asleep, 40 * ms, 1 * ms, 38 * ms, block)["starved"] is False
    # Its own CPU alone passed the threshold: its own block, however long it also waited.
    assert kernel.contention(waited, 90 * ms, 30 * ms, 60 * ms, block)["starved"] is False
    # No sample could look at its kernel wait: no verdict, only the others' CPU.
    assert kernel.contention(None, 40 * ms, 1 * ms, 38 * ms, block) == {"others_busy": 0.95}


def test_a_step_computing_on_the_loop_beside_busy_threads_is_its_own_block() -> None:
    """CPU work in the loop (30 ms, three times the threshold) while other requests' CPU runs
    in threads: its steps last longer, sharing the GIL, but they are never called starved."""
    from shim_asgi_apps import fetch, traced

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["path"] == "/cpu":
            burn(0.03)
        else:
            await asyncio.to_thread(burn, 0.05)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    shim, rec = traced(app)
    asyncio.run(fetch(shim, *(["/hop", "/cpu"] * 4)))
    paths = {e.req: e.data["path"] for e in rec.events if e.kind == K.REQUEST_START}
    blocks = [e for e in rec.events if e.kind == K.LOOP_BLOCKED and e.req is not None]
    own = [e for e in blocks if paths[e.req] == "/cpu"]
    assert len(own) == 4
    assert not any(e.data.get("starved") for e in own), [e.data for e in own]


def test_a_step_after_the_threads_finished_says_nothing_about_them() -> None:
    """The other threads' CPU is read at each step's start while hops are in flight: a later
    blocking step, begun with none in flight, carries no ``others_busy`` (it read a stale
    clock before, and claimed more than the machine's cores)."""
    from shim_asgi_apps import fetch, traced

    hop_done = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["path"] == "/hop":
            await asyncio.to_thread(burn, 0.05)
            hop_done.set()
        else:
            await hop_done.wait()
            time.sleep(0.03)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    shim, rec = traced(app)
    asyncio.run(fetch(shim, "/hop", "/late"))
    paths = {e.req: e.data["path"] for e in rec.events if e.kind == K.REQUEST_START}
    blocks = [e for e in rec.events if e.kind == K.LOOP_BLOCKED and e.req is not None]
    late = [e for e in blocks if paths[e.req] == "/late"]
    assert len(late) == 1, late
    ours = {"location_from", "descheduled_ns", "gc_ns"}
    assert set(late[0].data) - ours == {"location", "delayed"}, late


def test_a_step_kept_waiting_by_a_competing_thread_is_starved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A busy thread that is no hop of a request (``trace run``'s live dashboard drawing in the
    main thread) takes the GIL from the loop too: registered with ``competing``, the steps it
    delays are measured (``others_busy``) and said ``starved`` instead of blaming the app's
    line. Up to three runs, as in the hop test above (a block needs a sample inside it)."""
    from tracer.shim.hops import competing

    monkeypatch.setitem(blocking._THRESHOLDS, "min", 8_000_000)

    def run() -> list[Event]:
        blocked = blocks_beside_busy_threads(around=lambda: competing("a test's busy threads"))
        assert all("others_busy" in e.data for e in blocked)  # measured, as for hops
        assert all(e.data["others_busy"] >= 0.25 for e in blocked if e.data.get("starved"))
        return blocked

    within_three_runs(run, lambda blocked: any(e.data.get("starved") for e in blocked))

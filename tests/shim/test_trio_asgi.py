"""The ASGI shim on trio, driven by hand (``trio.run``): the same events as on asyncio, the
request's trio task named, a cancellation ended as on asyncio, a blocking step located."""

from __future__ import annotations

from typing import Any

import pytest
from step_blocks import blocks_at, blocks_follow_the_steps, without_blocks
from trio_apps import (
    blocks_in_a_child,
    blocks_on_trio,
    hello,
    on_asyncio,
    on_trio,
    scope,
    shape,
    sleeps_in_a_nursery,
    sleeps_on_trio,
)

from tracer import events as K
from tracer.recorder import Recorder
from tracer.shim.asgi import AsgiShim

trio = pytest.importorskip("trio")

pytestmark = pytest.mark.timeout(60)

APPS = "tests/shim/trio_apps.py"


def traced(app: Any, **options: Any) -> tuple[AsgiShim, Recorder]:
    recorder = Recorder()
    return AsgiShim(app, recorder=recorder, **options), recorder


def line_of(marker: str) -> int:
    from trio_apps import __file__ as path

    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.rstrip().endswith(f"# {marker}"):
                return number
    raise LookupError(marker)


def test_a_raw_app_on_trio_records_what_it_records_on_asyncio() -> None:
    """request.start, the step, the receive, both sends and request.end, exactly and in the
    same order as on asyncio; the same messages reach the server."""
    shim, on_trio_rec = traced(hello)
    sent = on_trio(shim)
    twin, on_asyncio_rec = traced(hello)
    assert sent == on_asyncio(twin) == on_trio(hello)
    events = without_blocks(on_trio_rec.recording().events, shim.block_ns)
    assert [e.kind for e in events] == [
        K.REQUEST_START,
        K.SCHED_STEP,
        K.ASGI_RECEIVE,
        K.ASGI_SEND,
        K.ASGI_SEND,
        K.REQUEST_END,
    ]
    assert shape(events) == shape(without_blocks(on_asyncio_rec.recording().events, twin.block_ns))


def test_the_request_task_on_trio_is_named_as_trio_names_it() -> None:
    """Every event of the request carries its trio task's name, as asyncio's carry its
    task's (``task`` is null only where no task runs)."""
    names: list[str] = []

    async def names_its_task(scope: dict[str, Any], receive: Any, send: Any) -> None:
        names.append(trio.lowlevel.current_task().name)
        await hello(scope, receive, send)

    shim, rec = traced(names_its_task)
    on_trio(shim)
    assert len(names) == 1
    assert {e.task for e in rec.recording().events} == {names[0]}


def test_a_call_from_another_trio_task_is_named_after_that_task() -> None:
    """A send made by a child task of the request (a nursery's) is that task's, as a send
    from another asyncio task is that task's."""

    async def sends_from_a_child(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(send, {"type": "http.response.start", "status": 204}, name="child")
        await send({"type": "http.response.body", "body": b""})

    shim, rec = traced(sends_from_a_child)
    on_trio(shim)
    sends = [e for e in rec.recording().events if e.kind == K.ASGI_SEND]
    own = next(e.task for e in rec.recording().events if e.kind == K.REQUEST_START)
    assert [(e.data["type"], e.task) for e in sends] == [
        ("http.response.start", "child"),
        ("http.response.body", own),
    ]


@pytest.mark.parametrize("app", [sleeps_on_trio, sleeps_in_a_nursery])
def test_a_cancelled_request_on_trio_ends_as_a_cancelled_one_on_asyncio(app: Any) -> None:
    """A trio cancel scope cancels the app: the cancellation reaches the caller unchanged
    (the scope catches it), no ``error`` is recorded, and request.end says ``cancelled``
    with no status, as for a cancelled asyncio task (no 500: nobody answers it)."""
    shim, rec = traced(app)
    caught: list[bool] = []

    async def main(target: Any) -> None:
        with trio.move_on_after(0.05) as cancel_scope:
            await target(scope(), _receive_once(), _drop)
        caught.append(cancel_scope.cancelled_caught)

    trio.run(main, app)
    trio.run(main, shim)
    assert caught == [True, True]
    events = without_blocks(rec.recording().events, shim.block_ns)
    assert [e.kind for e in events if e.kind != K.SCHED_STEP] == [
        K.REQUEST_START,
        K.ASGI_RECEIVE,
        K.REQUEST_END,
    ]
    end = events[-1].data
    assert (end["status"], end["error"]) == (None, "cancelled")


def test_a_blocking_step_on_trio_names_its_line_and_says_its_list_is_not_whole() -> None:
    """``time.sleep`` in ``async def`` on trio holds the loop: ``loop.blocked`` at the
    sleep's line, as the watchdog samples it on asyncio; trio shows no one what is ready to
    run, so its ``delayed`` is said to be a bound from below (``delayed_complete: false``)."""
    shim, rec = traced(blocks_on_trio, block_threshold_ms=10)
    assert on_trio(shim)[-1] == {"type": "http.response.body", "body": b"late"}
    blocks = [e for e in rec.recording().events if e.kind == K.LOOP_BLOCKED]
    assert len(blocks) == 1
    data = blocks[0].data
    assert data["location"] == f"{APPS}:{line_of('BLOCKS')}"
    assert "location_from" not in data
    assert data["delayed"] == []
    assert data["delayed_complete"] is False
    step = next(e for e in rec.recording().events if e.kind == K.SCHED_STEP)
    assert (blocks[0].t, blocks[0].dur, blocks[0].task) == (step.t, step.dur, step.task)


def test_requests_on_one_trio_run_share_one_view_of_it() -> None:
    """Two requests in one ``trio.run``, one blocking: the other was in flight meanwhile,
    and still the list is said not whole (trio keeps its run queue to itself)."""
    shim, rec = traced(blocks_on_trio, block_threshold_ms=10)
    quick = AsgiShim(hello, recorder=rec)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(quick, scope(), _receive_once(wait=0.01), _drop)
            await trio.sleep(0)
            nursery.start_soon(shim, scope(), _receive_once(), _drop)

    trio.run(main)
    events = rec.recording().events
    blocks = [e for e in events if e.kind == K.LOOP_BLOCKED]
    # Other steps than the blocking one block too on a loaded machine: each a long step's.
    blocks_follow_the_steps(events, shim.block_ns)
    quick_req, blocking_req = (e.req for e in events if e.kind == K.REQUEST_START)
    # The blocking request's first step sleeps (its receive returns at once): its block.
    step = next(e for e in events if e.kind == K.SCHED_STEP and e.req == blocking_req)
    (block,) = [e for e in blocks if (e.req, e.t, e.dur) == (blocking_req, step.t, step.dur)]
    assert {e.data["delayed_complete"] for e in blocks} == {False}
    assert block.data["delayed"] == []
    # The quick request began before the block and ended after it: in flight meanwhile.
    (start,) = [e for e in events if e.kind == K.REQUEST_START and e.req == quick_req]
    (end,) = [e for e in events if e.kind == K.REQUEST_END and e.req == quick_req]
    assert start.t < block.t and end.t >= block.t + (block.dur or 0)
    ends = [e for e in events if e.kind == K.REQUEST_END]
    assert sorted(e.data["status"] for e in ends) == [200, 200]


def test_an_app_error_on_trio_propagates_and_is_recorded() -> None:
    """An exception of the app on trio is its ``error`` and reaches the server unchanged;
    request.end says 500 as a server answers it."""
    boom = ValueError("boom")

    async def raises(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        raise boom

    shim, rec = traced(raises)
    with pytest.raises(ValueError) as raised:
        on_trio(shim)
    assert raised.value is boom
    events = rec.recording().events
    errors = [e for e in events if e.kind == K.ERROR]
    assert [(e.data["type"], e.data["message"]) for e in errors] == [("ValueError", "boom")]
    assert (events[-1].data["status"], events[-1].data["error"]) == (500, "ValueError")


def _receive_once(wait: float = 0.0) -> Any:
    given = False

    async def receive() -> dict[str, Any]:
        nonlocal given
        if wait:
            await trio.sleep(wait)
        if not given:
            given = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await trio.sleep_forever()
        raise AssertionError("unreachable")

    return receive


async def _drop(message: Any) -> None:
    await trio.lowlevel.checkpoint()


def test_the_runs_view_closes_with_the_run() -> None:
    """The requests of one ``trio.run`` share its loop view, and it is closed once the run
    ended: the watchdog stops watching it (no thread is kept awake for a finished run)."""
    from tracer.shim.blocking import LoopState
    from tracer.shim.trio_run import run_state

    seen: list[LoopState | None] = []

    async def notes_its_run(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(run_state())
        await hello(scope, receive, send)

    shim, _ = traced(notes_its_run)

    async def main() -> None:
        for _ in range(2):
            await shim(scope(), _receive_once(), _drop)
        state = seen[-1]
        assert state is not None
        run = state.loop_ref()
        assert run is not None and not run.is_closed()

    trio.run(main)
    assert seen[0] is seen[1]
    state = seen[0]
    assert state is not None
    run = state.loop_ref()
    assert run is None or run.is_closed()
    trio.run(main)
    assert seen[2] is not state  # a new run, a new view


def test_the_steps_of_a_task_the_request_starts_on_trio_are_its_own() -> None:
    """A nursery's task of the request is stepped as asyncio's tasks of a request are: its
    ``sched.step`` events on its name, the last one returned (``awaiting`` null), and its
    ``time.sleep`` the request's ``loop.blocked`` at its line."""
    shim, rec = traced(blocks_in_a_child, block_threshold_ms=10)
    assert on_trio(shim)[-1] == {"type": "http.response.body", "body": b"done"}
    line = f"{APPS}:{line_of('CHILD BLOCKS')}"
    events = rec.recording().events
    # Other steps than the child's blocking one block too on a loaded machine: each a long
    # step's, left out below.
    blocks_follow_the_steps(events, shim.block_ns)
    steps = [e for e in events if e.task == "child" and e.kind == K.SCHED_STEP]
    assert [e.data["awaiting"] for e in steps] == ["trio.sleep", None]
    sleeps = (steps[1].t, steps[1].dur)
    child = [
        e
        for e in events
        if e.task == "child" and (e.kind != K.LOOP_BLOCKED or (e.t, e.dur) == sleeps)
    ]
    # Its second step blocks, sends (the driver's send returns at once) and returns.
    assert [e.kind for e in child] == [K.SCHED_STEP, K.SCHED_STEP, K.LOOP_BLOCKED, K.ASGI_SEND]
    block = child[2]
    assert (block.req, block.data["location"]) == (1, line)
    assert blocks_at(events, {line}) == [block]


def test_tasks_of_no_request_are_not_stepped_on_trio() -> None:
    """A task the server starts (no request current in it) records nothing."""
    shim, rec = traced(hello)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(shim, scope(), _receive_once(), _drop)
            nursery.start_soon(trio.sleep, 0.01, name="server's own")

    trio.run(main)
    assert "server's own" not in {e.task for e in rec.recording().events}

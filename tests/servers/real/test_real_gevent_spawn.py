"""Greenlets a request served by gunicorn's gevent worker starts (``gevent.spawn``, a pool's,
a patched ``threading.Thread``) are steps of that request; runs that hold the hub for no
request (a greenlet started at import, one that outlived its request, a hub callback) are
``loop.blocked`` with no request, delaying the requests in flight."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from real_helpers import HERE, Run, run_real

from tracer import events as K
from tracer.client import ClientConfig
from tracer.events import Event

pytest.importorskip("gevent")
pytestmark = pytest.mark.timeout(90)

APP = "real_gevent_spawn_apps:app"


def _run(paths: tuple[str, ...], concurrency: int, app: str = APP) -> Run:
    run = run_real(
        "gunicorn", app, ClientConfig(concurrency=concurrency, requests=len(paths), paths=paths),
        app_dir=HERE, workers=1, worker_class="gevent",
    )  # fmt: skip
    assert run.stats.status == {200: len(paths)}
    return run


def _served(run: Run) -> list[Event]:
    return [e for e in run.events if e.pid in run.pids and e.kind != K.CLIENT_SEND]


def _blocks(served: list[Event]) -> list[Event]:
    """The ``loop.blocked`` events among ``served``."""
    return [e for e in served if e.kind == K.LOOP_BLOCKED]


def _line(function: Callable[..., Any], text: str) -> str:
    """``file:line`` of the first line of ``function`` holding ``text``."""
    lines, first = inspect.getsourcelines(function)
    module = inspect.getsourcefile(function) or ""
    name = module.rsplit("/", 1)[-1]
    return f"{name}:{first + next(i for i, s in enumerate(lines) if text in s)}"


def _ran_in(served: list[Event], req: int) -> list[str]:
    (started,) = [e for e in served if e.kind == K.WSGI_START_RESPONSE and e.req == req]
    return dict(started.data["headers"])["X-Ran-In"].split()


def _paths(served: list[Event]) -> dict[str, int]:
    return {e.data["path"]: e.req for e in served if e.kind == K.REQUEST_START and e.req}


def _no_overlap(steps: list[Event]) -> None:
    ordered = sorted(steps, key=lambda e: e.t)
    for before, after in zip(ordered, ordered[1:], strict=False):
        assert after.t >= before.t + (before.dur or 0)  # one greenlet at a time


@pytest.mark.parametrize("path", ["/spawn", "/pool"])
def test_greenlets_a_request_spawns_and_joins_are_steps_of_it(path: str) -> None:
    """Three backend calls in greenlets (``gevent.spawn`` + ``joinall``, or a
    ``gevent.pool.Pool``): each greenlet is two steps of the request under its own name, ``via``
    ``gevent.spawn``: the first (``queued_ns``) waits on the hub at the backend's sleep, the
    last (no ``queued_ns``) ends it; the request's own steps wait at the join and end it."""
    from real_gevent_spawn_apps import app, backend

    run = _run((path,), 1)
    served = _served(run)
    assert not [e for e in served if e.kind in (K.SCHED_THREAD, K.LOOP_BLOCKED)]
    (start,) = [e for e in served if e.kind == K.REQUEST_START]
    (end,) = [e for e in served if e.kind == K.REQUEST_END]
    steps = [e for e in served if e.kind == K.SCHED_STEP]
    assert {e.req for e in steps} == {start.req}
    children = _ran_in(served, start.req or 0)
    assert len(set(children)) == 3 and start.task not in children
    assert {e.task for e in steps} == {start.task, *children}
    join = _line(app, "joinall" if path == "/spawn" else "pool.join")
    sleep = _line(backend, "time.sleep")
    for child in children:
        first, last = [e for e in steps if e.task == child]
        assert first.data["awaiting"] == "gevent hub"
        assert first.data["location"].endswith(sleep)
        assert first.data["via"] == last.data["via"] == "gevent.spawn"
        assert first.data["queued_ns"] >= 0
        assert sorted(last.data) == ["awaiting", "cpu_ns", "location", "via"]
        assert last.data["awaiting"] is None and last.data["location"] is None
        assert first.t >= start.t and last.t + (last.dur or 0) <= end.t
    own = [e for e in steps if e.task == start.task]
    assert all("via" not in e.data for e in own)
    assert all(e.data["location"].endswith(join) for e in own[:-1])
    assert own[0].t + (own[0].dur or 0) <= min(e.t for e in steps if e.task != start.task)
    assert own[-1].data["awaiting"] is None
    assert own[-1].t >= max(e.t + (e.dur or 0) for e in steps if e.task != start.task)
    assert [e for e in served if e.kind == K.SCHED_STEP] == sorted(steps, key=lambda e: e.seq)
    _no_overlap(steps)


def test_a_patched_thread_a_request_starts_is_steps_of_it() -> None:
    """``threading.Thread(target=backend).start()`` then ``join()`` under patching: the
    thread is a greenlet on the worker's thread; its two steps are the request's, ``via``
    ``threading.Thread``, alternating with the request's own (at ``start`` and ``join``)."""
    from real_gevent_spawn_apps import app, backend

    run = _run(("/thread",), 1)
    served = _served(run)
    (start,) = [e for e in served if e.kind == K.REQUEST_START]
    (thread,) = _ran_in(served, start.req or 0)
    steps = [e for e in served if e.kind == K.SCHED_STEP]
    said = [
        (
            "request" if e.task == start.task else e.task,
            e.data["awaiting"],
            e.data["location"] and e.data["location"].rsplit("/", 1)[-1],
            e.data.get("via"),
            "queued_ns" in e.data,
        )
        for e in steps
    ]
    hub = "gevent hub"
    assert said == [
        ("request", hub, _line(app, "thread.start()"), None, False),
        (thread, hub, _line(backend, "time.sleep"), "threading.Thread", True),
        ("request", hub, _line(app, "thread.join()"), None, False),
        (thread, None, None, "threading.Thread", False),
        ("request", None, None, None, False),
    ]
    assert {e.req for e in steps} == {start.req}
    assert not [e for e in served if e.kind in (K.SCHED_THREAD, K.LOOP_BLOCKED)]
    _no_overlap(steps)


def test_spawning_requests_in_flight_at_once_keep_their_own_greenlets() -> None:
    """Six ``/spawn`` requests, four at a time: each greenlet's steps are those of the request
    that started it (the names its response gives), inside that request's life."""
    run = _run(("/spawn",) * 6, 4)
    served = _served(run)
    starts = {e.req: e for e in served if e.kind == K.REQUEST_START}
    ends = {e.req: e for e in served if e.kind == K.REQUEST_END}
    steps = [e for e in served if e.kind == K.SCHED_STEP]
    assert len(starts) == 6
    for req, start in starts.items():
        own = [e for e in steps if e.req == req]
        children = _ran_in(served, req or 0)
        assert {e.task for e in own} == {start.task, *children}
        spawned = [e for e in own if e.task != start.task]
        assert len(spawned) == 6 and {e.data["via"] for e in spawned} == {"gevent.spawn"}
        assert sum("queued_ns" in e.data for e in spawned) == 3
        end = ends[req]
        assert all(start.t <= e.t and e.t + (e.dur or 0) <= end.t for e in spawned)
    _no_overlap(steps)


def test_a_greenlet_that_outlives_its_request_blocks_as_no_request() -> None:
    """``/left`` starts a greenlet and answers: the greenlet is followed no further once its
    request ended, so its later run that holds the hub 40 ms is a ``loop.blocked`` with no
    request and no task, ``outside_step``, at its line, delaying the request in flight."""
    from real_gevent_spawn_apps import LEFT_BLOCK_S, blocking_sleep

    run = _run(("/left", "/sleep?300"), 2)
    served = _served(run)
    reqs = _paths(served)
    (left_end,) = [e for e in served if e.kind == K.REQUEST_END and e.req == reqs["/left"]]
    assert max(e.seq for e in served if e.req == reqs["/left"]) == left_end.seq
    # The block at the greenlet's sleep (a busy machine may add others, the machine's doing:
    # a step or the server's own code that it took the CPU from past the threshold).
    at = _line(blocking_sleep, "(seconds)")
    (block,) = [e for e in _blocks(served) if e.data["location"].endswith(at)]
    assert block.req is None and block.task is None
    assert block.data["outside_step"] is True
    assert block.data["delayed"] == [reqs["/sleep"]]
    assert block.data["delayed_from"] == "in_flight"
    assert (block.dur or 0) >= LEFT_BLOCK_S * 1e9  # the greenlet's whole run
    assert block.t >= left_end.t
    steps = [e for e in served if e.kind == K.SCHED_STEP]
    assert not [e for e in steps if block.t < e.t + (e.dur or 0) and e.t < block.t + block.dur]


def test_a_callback_the_hub_runs_blocks_as_no_request() -> None:
    """The hub runs a callback that holds it 40 ms (``loop.run_callback``): a ``loop.blocked``
    with no request, at the callback's line, from the first to the last look that saw it (a
    bound from below), delaying the request that scheduled it."""
    from real_gevent_spawn_apps import blocking_sleep

    run = _run(("/hub-callback", "/sleep?300"), 2)
    served = _served(run)
    reqs = _paths(served)
    at = _line(blocking_sleep, "(seconds)")
    (block,) = [e for e in _blocks(served) if e.data["location"].endswith(at)]
    assert block.req is None and block.task is None
    assert block.data["outside_step"] is True
    assert reqs["/hub-callback"] in block.data["delayed"]
    assert (block.dur or 0) > 10_000_000  # past the threshold: seen by more than one look
    steps = [e for e in served if e.kind == K.SCHED_STEP]
    assert not [e for e in steps if block.t < e.t + (e.dur or 0) and e.t < block.t + block.dur]


def test_a_greenlet_started_at_import_blocks_every_request_in_flight() -> None:
    """A greenlet the app module spawned at import holds the hub 30 ms every 60 ms: each such
    run while requests are in flight is a ``loop.blocked`` with no request at its line, whose
    ``delayed`` is exactly the requests in flight; no step runs inside one."""
    from real_gevent_ticker_apps import BLOCK_S, tick

    run = _run(("/", "/", "/", "/?300"), 4, "real_gevent_ticker_apps:app")
    served = _served(run)
    starts = {e.req: e.t for e in served if e.kind == K.REQUEST_START}
    ends = {e.req: e.t for e in served if e.kind == K.REQUEST_END}
    at = _line(tick, "_blocking_sleep(BLOCK_S)")
    blocks = [e for e in _blocks(served) if e.data["location"].endswith(at)]
    assert len(blocks) >= 2
    steps = [e for e in served if e.kind == K.SCHED_STEP]
    for block in blocks:
        assert block.req is None and block.task is None
        assert block.data["outside_step"] is True
        assert (block.dur or 0) >= BLOCK_S * 1e9
        t1 = block.t + (block.dur or 0)
        in_flight = sorted(r for r in starts if starts[r] <= block.t and ends[r] >= t1)
        assert block.data["delayed"] == in_flight != []
        assert not [e for e in steps if block.t < e.t + (e.dur or 0) and e.t < t1]


def test_a_block_that_collected_garbage_says_how_long() -> None:
    """A request's step that makes cyclic garbage and collects it holds the hub: its
    ``loop.blocked`` says ``gc_ns``, the collections on the worker's thread during it."""
    run = _run(("/gc",), 1)
    served = _served(run)
    (start,) = [e for e in served if e.kind == K.REQUEST_START]
    (block,) = [e for e in _blocks(served) if e.req == start.req]
    assert block.req == start.req and block.task == start.task
    assert 0 < block.data["gc_ns"] <= (block.dur or 0)

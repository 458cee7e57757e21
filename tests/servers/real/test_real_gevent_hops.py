"""Work a request served by gunicorn's gevent worker hands to a thread: a patched pool's
"thread" is a greenlet (its runs are the request's steps), gevent's threadpool a real thread."""

from __future__ import annotations

import inspect

import pytest
from real_helpers import HERE, Run, run_real

from tracer import events as K
from tracer.client import ClientConfig
from tracer.events import Event

pytest.importorskip("gevent")
pytestmark = pytest.mark.timeout(90)

APP = "real_gevent_hop_apps:app"


def _one(path: str) -> tuple[Run, list[Event], list[str]]:
    """One request to ``path`` on one gevent worker: the run, the request's events in the
    server process in recording order, and the response's ``X-Ran-On`` (greenlet, OS ident)."""
    run = run_real(
        "gunicorn", APP, ClientConfig(concurrency=1, requests=1, paths=(path,)),
        app_dir=HERE, workers=1, worker_class="gevent",
    )  # fmt: skip
    assert run.stats.status == {200: 1}
    served = [e for e in run.events if e.req == 1 and e.pid in run.pids]
    (started,) = [e for e in served if e.kind == K.WSGI_START_RESPONSE]
    ran_on = dict(started.data["headers"])["X-Ran-On"].split()
    return run, served, ran_on


def _line(text: str) -> str:
    """``file:line`` of the first line of ``work`` holding ``text``."""
    from real_gevent_hop_apps import work

    lines, first = inspect.getsourcelines(work)
    return f"real_gevent_hop_apps.py:{first + next(i for i, s in enumerate(lines) if text in s)}"


def test_a_pool_thread_that_is_a_greenlet_is_steps_of_the_request() -> None:
    """``ThreadPoolExecutor.submit`` under gevent: the work's greenlet runs on the worker's OS
    thread, so it is no ``sched.thread`` but the request's ``sched.step``s with its greenlet's
    name as ``task`` and ``via``; the first waits at the work's sleep and says ``queued_ns``,
    the last ends it. Its steps and the request greenlet's alternate, never overlapping."""
    _, served, (greenlet, os_ident) = _one("/pool")
    assert not [e for e in served if e.kind == K.SCHED_THREAD]
    (start,) = [e for e in served if e.kind == K.REQUEST_START]
    steps = [e for e in served if e.kind == K.SCHED_STEP]
    assert {(e.tid, e.thread) for e in served} == {(int(os_ident), "MainThread")}
    own = [e for e in steps if e.task == start.task]
    hop = [e for e in steps if e.task != start.task]
    assert {e.task for e in hop} == {greenlet}
    assert greenlet != start.task
    assert len(hop) == 2
    first, last = hop
    assert first.data["awaiting"] == "gevent hub"
    assert first.data["location"].endswith(_line("time.sleep"))
    assert first.data["via"] == last.data["via"] == "ThreadPoolExecutor.submit"
    assert first.data["queued_ns"] >= 0
    assert "queued_ns" not in last.data
    assert last.data["awaiting"] is None and last.data["location"] is None
    assert all("via" not in e.data for e in own)
    assert own[-1].data["awaiting"] is None
    ordered = sorted(steps, key=lambda e: e.t)
    assert ordered == steps  # recorded as they ran
    for before, after in zip(ordered, ordered[1:], strict=False):
        assert after.t >= before.t + (before.dur or 0)
    # The request's greenlet waited meanwhile: a step of it ends before the work starts and
    # the next begins after the work's last step.
    assert any(e.t + (e.dur or 0) <= first.t for e in own)
    assert any(e.t >= last.t + (last.dur or 0) for e in own)


def test_a_pool_greenlet_that_holds_the_hub_is_the_requests_block() -> None:
    """The work computes 50 ms without a switch: one ``loop.blocked`` of the request, with the
    work's greenlet as ``task``, at the work's loop, equal to its step."""
    _, served, (greenlet, _) = _one("/pool-cpu")
    # The block the work computed: on a busy machine a step of well under 1 ms of CPU that the
    # machine took the CPU from can hold the hub past the threshold too (the machine's doing).
    cpu = {(e.t, e.task): e.data["cpu_ns"] for e in served if e.kind == K.SCHED_STEP}
    blocks = [e for e in served if e.kind == K.LOOP_BLOCKED]
    (block,) = [b for b in blocks if cpu.get((b.t, b.task), 0) >= 5_000_000]
    assert block.task == greenlet
    assert block.data["location"].endswith(_line("while")) or block.data["location"].endswith(
        _line("pass")
    )
    assert block.data["delayed"] == []
    (step,) = [e for e in served if e.kind == K.SCHED_STEP and e.t == block.t]
    assert step.task == greenlet and step.dur == block.dur
    assert step.data["awaiting"] is None


def test_gevents_threadpool_is_a_hop_to_a_real_thread() -> None:
    """``gevent.get_hub().threadpool.spawn``: a real OS thread, so one ``sched.thread`` with
    that thread's OS ident (not a greenlet's), ``via`` ``gevent.threadpool``; the request's
    greenlet waits on the hub meanwhile."""
    _, served, (_, os_ident) = _one("/native")
    (start,) = [e for e in served if e.kind == K.REQUEST_START]
    (hop,) = [e for e in served if e.kind == K.SCHED_THREAD]
    assert hop.tid == int(os_ident) != start.tid
    assert hop.thread == "gevent threadpool" and hop.task is None
    assert hop.data["via"] == "gevent.threadpool"
    assert hop.data["queued_ns"] >= 0
    assert sorted(hop.data) == ["cpu_ns", "queued_ns", "via"]
    steps = [e for e in served if e.kind == K.SCHED_STEP]
    assert {e.task for e in steps} == {start.task}
    assert steps[0].data["awaiting"] == "gevent hub"
    assert steps[0].t + (steps[0].dur or 0) <= hop.t
    assert steps[-1].t >= hop.t + (hop.dur or 0)

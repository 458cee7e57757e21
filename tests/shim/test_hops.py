"""Thread hops: offloaded work of a traced request is a sched.thread event of that request."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio.to_thread
import pytest
from asgiref.sync import SyncToAsync, sync_to_async
from shim_asgi_apps import call, of, traced

from tracer import events as K
from tracer.recorder import Recorder
from tracer.shim import hops

pytestmark = pytest.mark.timeout(60)

Offload = Callable[[Callable[[], Any]], Awaitable[Any]]


def _pool_submit(func: Callable[[], Any]) -> Awaitable[Any]:
    return asyncio.get_running_loop().run_in_executor(None, func)


_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="own-pool")


def _own_pool_submit(func: Callable[[], Any]) -> Awaitable[Any]:
    return asyncio.get_running_loop().run_in_executor(_POOL, func)


def _context_run_submit(func: Callable[[], Any]) -> Awaitable[Any]:
    """Litestar's ``sync_to_thread`` shape: asyncio.to_thread's partial, submitted by others."""
    run = functools.partial(contextvars.copy_context().run, func)
    return asyncio.get_running_loop().run_in_executor(None, run)


class _DatabaseSyncToAsync(SyncToAsync):  # type: ignore[type-arg]
    """Channels' ``database_sync_to_async`` shape: a subclass of asgiref's SyncToAsync."""


OFFLOADS: dict[str, tuple[Offload, str]] = {
    "asyncio.to_thread": (asyncio.to_thread, "asyncio.to_thread"),
    "default executor": (_pool_submit, "run_in_executor"),
    "own executor": (_own_pool_submit, "run_in_executor"),
    # Looked up at call time, as Starlette's run_in_threadpool does.
    "anyio": (lambda f: anyio.to_thread.run_sync(f), "anyio.to_thread"),
    "sync_to_async": (lambda f: sync_to_async(f)(), "sync_to_async"),
    "sync_to_async, any thread": (
        lambda f: sync_to_async(f, thread_sensitive=False)(),
        "sync_to_async",
    ),
    "context.run partial, not by to_thread": (_context_run_submit, "run_in_executor"),
    "SyncToAsync subclass": (lambda f: _DatabaseSyncToAsync(f)(), "sync_to_async"),
    "ThreadPoolExecutor.submit": (
        lambda f: asyncio.wrap_future(_POOL.submit(f)),
        "ThreadPoolExecutor.submit",
    ),
}


def offloading_app(offload: Offload, seen: list[Any]) -> Any:
    """An ASGI app that runs one function on another thread and answers with its result."""

    def work() -> str:
        seen.append(threading.get_ident())
        return "from the worker"

    async def app(scope: Any, receive: Any, send: Any) -> None:
        result = await offload(work)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": result.encode()})

    return app


@pytest.mark.parametrize("name", sorted(OFFLOADS))
def test_offloaded_work_is_a_thread_event_of_its_request(name: str) -> None:
    """The hop runs on the worker thread, belongs to the request, says how it got there."""
    offload, via = OFFLOADS[name]
    seen: list[int] = []
    shim, rec = traced(offloading_app(offload, seen))
    sent = asyncio.run(call(shim, extensions={"gateway_tracer": {"req": 7}}))
    assert sent[-1]["body"] == b"from the worker"
    events = rec.recording().events
    (hop,) = of(events, kind=K.SCHED_THREAD)
    (start,) = of(events, kind=K.REQUEST_START)
    assert (hop.req, hop.data["via"]) == (7, via)
    assert hop.tid == seen[0] != start.tid
    assert 0 <= hop.data["cpu_ns"] and hop.dur is not None
    assert start.t < hop.t and hop.end <= of(events, kind=K.REQUEST_END)[0].t


@pytest.mark.parametrize("name", sorted(OFFLOADS))
def test_outside_a_traced_request_nothing_is_wrapped_or_recorded(name: str) -> None:
    """Hops made by code that is not serving a traced request run as they are: no events."""
    offload, _ = OFFLOADS[name]
    shim, rec = traced(offloading_app(offload, []))

    def work() -> Any:
        return threading.current_thread().name

    async def main() -> Any:
        return await offload(work)

    assert asyncio.run(main()) != threading.current_thread().name
    assert shim is not None and rec.events == []


@pytest.mark.parametrize("name", sorted(OFFLOADS))
def test_results_and_exceptions_are_unchanged(name: str) -> None:
    """Through a hop, the callable's value and its exception (the same object) come back."""
    offload, _ = OFFLOADS[name]
    error = LookupError("from the worker")
    outcomes: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        outcomes.append(await offload(lambda: ("value", 1)))
        try:
            await offload(_raiser(error))
        except LookupError as exc:
            outcomes.append(exc)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    shim, rec = traced(app)
    asyncio.run(call(shim))
    assert outcomes[0] == ("value", 1) and outcomes[1] is error
    assert len(of(rec.events, kind=K.SCHED_THREAD)) == 2


def _raiser(error: BaseException) -> Callable[[], Any]:
    def raise_it() -> Any:
        raise error

    return raise_it


def test_install_is_idempotent_and_keeps_the_originals() -> None:
    """Installing again changes nothing; the originals are remembered, unwrapped."""
    traced(offloading_app(asyncio.to_thread, []))  # the first shim installs
    before = (
        asyncio.BaseEventLoop.run_in_executor,
        anyio.to_thread.run_sync,
        ThreadPoolExecutor.submit,
    )
    hops.install()
    hops.install()
    assert (
        asyncio.BaseEventLoop.run_in_executor,
        anyio.to_thread.run_sync,
        ThreadPoolExecutor.submit,
    ) == before
    originals = hops.installed()
    assert set(originals) - {"uvloop.Loop.run_in_executor"} == {
        "asyncio.BaseEventLoop.run_in_executor",
        "anyio.to_thread.run_sync",
        "anyio._backends._asyncio.AsyncIOBackend.run_sync_in_worker_thread",
        "concurrent.futures.ThreadPoolExecutor.submit",
    }
    assert all(not getattr(f, "__gateway_tracer_hop__", False) for f in originals.values())
    assert anyio.to_thread.run_sync.__wrapped__ is originals["anyio.to_thread.run_sync"]


def test_run_sync_bound_before_the_first_shim_is_still_a_hop() -> None:
    """``from anyio.to_thread import run_sync`` done before any shim existed (so the name is
    anyio's own function): the work is one hop of the request, recorded once; Starlette's
    way (looked up at call time, so wrapped twice over) is recorded once too."""
    traced(offloading_app(asyncio.to_thread, []))  # the first shim installs
    early_run_sync = hops.installed()["anyio.to_thread.run_sync"]
    assert not getattr(early_run_sync, "__gateway_tracer_hop__", False)
    for offload in (early_run_sync, lambda f: anyio.to_thread.run_sync(f)):
        seen: list[int] = []
        shim, rec = traced(offloading_app(offload, seen))
        assert asyncio.run(call(shim))[-1]["body"] == b"from the worker"
        events = rec.recording().events
        (hop,) = of(events, kind=K.SCHED_THREAD)
        assert hop.data["via"] == "anyio.to_thread" and hop.tid == seen[0]
        assert of(events, kind=K.SCHED_STEP)[0].data["awaiting"] == "anyio.to_thread.run_sync"


class _Broken(Recorder):
    def emit(self, kind: str, *args: Any, **kwargs: Any) -> None:
        if kind == K.SCHED_THREAD:
            raise RuntimeError("broken recorder")
        super().emit(kind, *args, **kwargs)


def test_a_recording_failure_in_a_hop_leaves_the_call_alone() -> None:
    """A recorder that fails while recording the hop: the request still gets its value."""
    rec = _Broken()
    from tracer.shim.asgi import AsgiShim

    shim = AsgiShim(offloading_app(asyncio.to_thread, []), recorder=rec)
    sent = asyncio.run(call(shim))
    assert sent[-1]["body"] == b"from the worker"
    assert of(rec.events, kind=K.REQUEST_END)[0].data["status"] == 200


def test_process_pool_work_is_passed_on_untouched() -> None:
    """run_in_executor with a process pool gets the very callable (it must pickle): no hop."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Not fork: this process has threads (the recorder's drain), and forking one is unsafe
    # (Python 3.12 warns about it).
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:

        async def app(scope: Any, receive: Any, send: Any) -> None:
            total = await asyncio.get_running_loop().run_in_executor(pool, sum, (1, 2, 3))
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": str(total).encode()})

        shim, rec = traced(app)
        sent = asyncio.run(call(shim))
    assert sent[-1]["body"] == b"6"
    assert of(rec.events, kind=K.SCHED_THREAD) == []


def test_hops_on_uvloops_loop_are_recorded() -> None:
    """uvloop's loop is not an ``asyncio.BaseEventLoop`` (uvicorn and granian take it by default
    when it is installed): its hops are recorded all the same, each way of submitting."""
    uvloop = pytest.importorskip("uvloop")
    for name, (offload, via) in OFFLOADS.items():
        seen: list[int] = []
        shim, rec = traced(offloading_app(offload, seen))
        sent = uvloop.run(call(shim, extensions={"gateway_tracer": {"req": 3}}))
        assert sent[-1]["body"] == b"from the worker", name
        (hop,) = of(rec.recording().events, kind=K.SCHED_THREAD)
        assert (hop.req, hop.data["via"], hop.tid) == (3, via, seen[0]), name

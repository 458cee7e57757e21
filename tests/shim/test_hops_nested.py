"""Thread hops inside thread hops, and a WSGI request's work on asgiref's loop thread.

asgiref nests its hops as Django does: ``sync_to_async`` runs a sync-only middleware on a
thread, whose ``get_response`` is ``async_to_sync``; the view's thread-sensitive
``sync_to_async`` then runs on that same thread (asgiref's ``CurrentThreadExecutor``). Under
WSGI, ``async_to_sync`` runs the coroutine on an event loop in a thread of its own.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from shim_asgi_apps import call, of, traced

from tracer import events as K
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.shim.wsgi import WsgiShim

pytestmark = pytest.mark.timeout(60)


def hops_of(events: list[Event]) -> list[tuple[int | None, int, str]]:
    """(req, tid, via) of each ``sched.thread``, in order."""
    return [(e.req, e.tid, e.data["via"]) for e in of(events, kind=K.SCHED_THREAD)]


def test_a_hop_nested_on_its_own_thread_is_part_of_the_outer_one() -> None:
    """A sync-only middleware run by ``sync_to_async``, calling the rest of the app through
    ``async_to_sync``, whose sync view runs thread-sensitive: the view runs on the
    middleware's thread, and that thread has one ``sched.thread`` of the request, which
    holds the view's time (not two overlapping)."""
    threads: dict[str, int] = {}

    def view() -> str:
        threads["view"] = threading.get_ident()
        return "view"

    async def get_response() -> str:
        return await sync_to_async(view)()

    def middleware() -> str:
        threads["middleware"] = threading.get_ident()
        return async_to_sync(get_response)()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        body = await sync_to_async(middleware)()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body.encode()})

    shim, rec = traced(app)
    sent = asyncio.run(call(shim, extensions={"gateway_tracer": {"req": 5}}))

    assert sent[-1]["body"] == b"view"
    assert threads["view"] == threads["middleware"]
    events = rec.recording().events
    assert hops_of(events) == [(5, threads["middleware"], "sync_to_async")]
    (hop,) = of(events, kind=K.SCHED_THREAD)
    (start,) = of(events, kind=K.REQUEST_START)
    (end,) = of(events, kind=K.REQUEST_END)
    assert start.t < hop.t and hop.end <= end.t


def test_a_hop_on_another_thread_inside_a_hop_is_its_own() -> None:
    """Inside a hop, work sent to another thread (``thread_sensitive=False``) is a second
    ``sched.thread``, on that thread, within the first."""
    threads: dict[str, int] = {}

    def leaf() -> None:
        threads["leaf"] = threading.get_ident()

    async def inner() -> None:
        await sync_to_async(leaf, thread_sensitive=False)()

    def middle() -> None:
        threads["middle"] = threading.get_ident()
        async_to_sync(inner)()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await sync_to_async(middle)()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    shim, rec = traced(app)
    asyncio.run(call(shim, extensions={"gateway_tracer": {"req": 6}}))

    assert threads["leaf"] != threads["middle"]
    events = rec.recording().events
    assert hops_of(events) == [
        (6, threads["middle"], "sync_to_async"),
        (6, threads["leaf"], "sync_to_async"),
    ]
    outer_hop, inner_hop = of(events, kind=K.SCHED_THREAD)
    assert outer_hop.t <= inner_hop.t and inner_hop.end <= outer_hop.end


def wsgi_calling_async(seen: dict[str, int]) -> Any:
    """A WSGI app whose work is a coroutine run through ``async_to_sync`` (Django's
    ``async def`` views under WSGI): the coroutine runs on asgiref's loop thread, hands one
    call back to the request's thread (thread-sensitive) and one to a pool thread."""

    def on_request_thread() -> None:
        seen["sensitive"] = threading.get_ident()

    def on_pool_thread() -> None:
        seen["pool"] = threading.get_ident()

    async def view() -> bytes:
        seen["loop"] = threading.get_ident()
        await sync_to_async(on_request_thread)()
        await sync_to_async(on_pool_thread, thread_sensitive=False)()
        return b"async"

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen["request"] = threading.get_ident()
        body = async_to_sync(view)()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]

    return app


def test_wsgi_work_on_asgirefs_loop_thread_is_a_thread_event_of_the_request() -> None:
    """The loop thread of ``async_to_sync`` is a ``sched.thread`` of the request (``via:
    async_to_sync``), so is the pool thread the coroutine hands work to; the call it hands
    back to the request's own thread is part of the request's ``wsgi`` one."""
    seen: dict[str, int] = {}
    rec = Recorder()
    shim = WsgiShim(wsgi_calling_async(seen), recorder=rec)
    transport = httpx.WSGITransport(app=shim)
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        response = client.get("/")

    assert response.content == b"async"
    assert seen["sensitive"] == seen["request"] != seen["loop"] != seen["pool"]
    events = rec.recording().events
    (start,) = of(events, kind=K.REQUEST_START)
    req = start.req
    # In time order: the request's own thread from the app call on, then the loop thread,
    # then the pool thread the coroutine handed work to.
    assert [e.kind for e in events] == [
        K.REQUEST_START,
        K.SCHED_THREAD,
        K.SCHED_THREAD,
        K.SCHED_THREAD,
        K.WSGI_START_RESPONSE,
        K.WSGI_BODY,
        K.WSGI_CLOSE,
        K.REQUEST_END,
    ]
    assert hops_of(events) == [
        (req, seen["request"], "wsgi"),
        (req, seen["loop"], "async_to_sync"),
        (req, seen["pool"], "sync_to_async"),
    ]
    own, loop, pool = of(events, kind=K.SCHED_THREAD)
    assert own.t <= loop.t <= pool.t and pool.end <= loop.end <= own.end
    assert loop.data["cpu_ns"] >= 0


def test_wsgi_request_current_only_during_its_app_call() -> None:
    """Outside the app call no request is current: ``async_to_sync`` then records nothing."""
    seen: dict[str, int] = {}
    rec = Recorder()
    WsgiShim(wsgi_calling_async({}), recorder=rec)  # installs the hooks

    async def alone() -> None:
        seen["loop"] = threading.get_ident()

    async_to_sync(alone)()
    assert seen["loop"] != threading.get_ident()
    assert rec.events == []


def test_wsgi_app_of_another_recorder_inside_an_asgi_request_is_a_request_of_both() -> None:
    """A WSGI app traced by one recorder, mounted through asgiref's adapter in an ASGI app
    traced by another: work the WSGI app hands to another thread is a ``sched.thread`` of
    each recorder's request, and a coroutine it runs on the ASGI loop (``async_to_sync``
    there) is a task of the ASGI request, as it was before the WSGI request was current."""
    from asgiref.wsgi import WsgiToAsgi

    import tracer

    seen: dict[str, int] = {}

    async def on_loop() -> None:
        seen["loop"] = threading.get_ident()
        await asyncio.sleep(0)

    def legacy(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen["wsgi"] = threading.get_ident()
        with ThreadPoolExecutor(max_workers=1) as pool:
            seen["pool"] = pool.submit(threading.get_ident).result()
        async_to_sync(on_loop)()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"legacy"]

    outer, inner = Recorder(), Recorder()
    app = tracer.instrument(WsgiToAsgi(tracer.instrument(legacy, recorder=inner)), recorder=outer)
    sent = asyncio.run(call(app, extensions={"gateway_tracer": {"req": 9}}))

    assert b"".join(message.get("body", b"") for message in sent) == b"legacy"
    inner_events = inner.recording().events
    (inner_start,) = of(inner_events, kind=K.REQUEST_START)
    assert hops_of(inner_events) == [
        (inner_start.req, seen["wsgi"], "wsgi"),
        (inner_start.req, seen["pool"], "ThreadPoolExecutor.submit"),
    ]
    outer_events = outer.recording().events
    assert hops_of(outer_events) == [
        (9, seen["wsgi"], "sync_to_async"),
        (9, seen["pool"], "ThreadPoolExecutor.submit"),
    ]
    here = [
        e
        for e in of(outer_events, kind=K.SCHED_STEP)
        if "test_hops_nested.py:" in (e.data["location"] or "")
    ]
    assert [e.tid for e in here] == [seen["loop"]]  # on_loop's await, a step of its task

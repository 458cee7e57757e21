"""Hops a WSGI app makes while the server iterates its response, and in its ``close()``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import flask
import httpx
import pytest
from asgiref.sync import async_to_sync

from tracer import events as K
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.shim.wsgi import WsgiShim

pytestmark = pytest.mark.timeout(60)


def _of(events: list[Event], kind: str) -> list[Event]:
    return [event for event in events if event.kind == kind]


def streaming_app(pool: ThreadPoolExecutor, seen: dict[str, int]) -> flask.Flask:
    """A Flask app streaming three chunks: the second made on a pool thread, the third by a
    coroutine on asgiref's loop thread; its close hands one more call to the pool."""
    app = flask.Flask(__name__)

    def on_pool(name: str) -> bytes:
        seen[name] = threading.get_ident()
        return b"pool "

    async def on_loop() -> bytes:
        seen["loop"] = threading.get_ident()
        return b"loop"

    @app.get("/stream")
    def stream() -> flask.Response:
        def chunks() -> Iterator[bytes]:
            yield b"head "
            yield pool.submit(on_pool, "chunk").result()
            yield async_to_sync(on_loop)()

        response = flask.Response(flask.stream_with_context(chunks()), mimetype="text/plain")
        response.call_on_close(lambda: pool.submit(on_pool, "close").result())
        return response

    return app


def test_hops_while_the_body_is_iterated_and_closed_are_the_requests() -> None:
    """Through a real Flask streaming response: the pool hop of the second chunk, the
    ``async_to_sync`` loop of the third and the pool hop of ``close()`` are ``sched.thread``
    events of the request, each inside the body event or close that made it."""
    seen: dict[str, int] = {}
    rec = Recorder()
    with ThreadPoolExecutor(max_workers=1) as pool:
        transport = httpx.WSGITransport(app=WsgiShim(streaming_app(pool, seen), recorder=rec))
        with httpx.Client(transport=transport, base_url="http://testserver") as client:
            response = client.get("/stream")
    assert response.text == "head pool loop"
    assert seen["chunk"] == seen["close"] != seen["loop"] != threading.get_ident()
    events = rec.recording().events
    (start,) = _of(events, K.REQUEST_START)
    (end,) = _of(events, K.REQUEST_END)
    (close,) = _of(events, K.WSGI_CLOSE)
    head, chunk, loop = _of(events, K.WSGI_BODY)[:3]
    hops = [e for e in _of(events, K.SCHED_THREAD) if e.data["via"] != "wsgi"]
    assert [(h.req, h.tid, h.data["via"]) for h in hops] == [
        (start.req, seen["chunk"], "ThreadPoolExecutor.submit"),
        (start.req, seen["loop"], "async_to_sync"),
        (start.req, seen["close"], "ThreadPoolExecutor.submit"),
    ]
    for hop, made_in in zip(hops, (chunk, loop, close), strict=True):
        assert made_in.t <= hop.t - hop.data["queued_ns"] <= hop.t and hop.end <= made_in.end
        assert head.end <= hop.t and hop.end <= end.t


def test_between_chunks_the_servers_own_work_is_no_hop() -> None:
    """The request is current while a chunk is made, not while the server holds the body
    between chunks (nor after it): work the server hands to a pool then records nothing,
    even when it iterates on another thread than it called the app on."""
    rec = Recorder()
    made: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        for name in ("first", "second"):
            made.append(pool.submit(threading.current_thread).result().name)
            yield name.encode()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="app-pool") as pool:
        body = WsgiShim(app, recorder=rec)({"REQUEST_METHOD": "GET"}, lambda *a: None)
        chunks = [next(body)]
        pool.submit(lambda: None).result()  # the server's own, between chunks

        def iterate_rest() -> None:
            chunks.extend(body)
            body.close()

        thread = threading.Thread(target=iterate_rest, name="server-thread")
        thread.start()
        thread.join()
        pool.submit(lambda: None).result()  # after the request
    assert chunks == [b"first", b"second"] and len(made) == 2
    events = rec.recording().events
    hops = [e for e in _of(events, K.SCHED_THREAD) if e.data["via"] != "wsgi"]
    assert [h.data["via"] for h in hops] == ["ThreadPoolExecutor.submit"] * 2
    first, second = _of(events, K.WSGI_BODY)
    assert [first.t <= hops[0].t, hops[0].end <= first.end] == [True, True]
    assert [second.t <= hops[1].t, hops[1].end <= second.end] == [True, True]
    assert second.thread == "server-thread"


def test_shims_of_two_recorders_each_see_a_chunks_hops_on_the_servers_thread() -> None:
    """Shims of two recorders around one app, the server iterating on another thread than
    it called the app on: a chunk's pool hop and ``async_to_sync`` loop are ``sched.thread``
    events of each recorder's request; what the loop hands back to the iterating thread
    (thread-sensitive ``sync_to_async``) is part of that thread's own ``wsgi`` time, in each."""
    from asgiref.sync import sync_to_async

    seen: dict[str, int] = {}

    def on_iterating_thread() -> None:
        seen["sensitive"] = threading.get_ident()

    async def view() -> None:
        seen["loop"] = threading.get_ident()
        await sync_to_async(on_iterating_thread)()

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        seen["pool"] = pool.submit(threading.get_ident).result()
        async_to_sync(view)()
        yield b"streamed"

    inner, outer = Recorder(), Recorder()
    with ThreadPoolExecutor(max_workers=1) as pool:
        shim = WsgiShim(WsgiShim(app, recorder=inner), recorder=outer)
        body = shim({"REQUEST_METHOD": "GET"}, lambda *a: None)
        chunks: list[bytes] = []

        def iterate() -> None:
            seen["server"] = threading.get_ident()
            chunks.extend(body)
            body.close()

        thread = threading.Thread(target=iterate, name="server-thread")
        thread.start()
        thread.join()
    assert chunks == [b"streamed"] and seen["sensitive"] == seen["server"]
    for rec in (inner, outer):
        events = rec.recording().events
        (start,) = _of(events, K.REQUEST_START)
        threads = [(e.req, e.tid, e.data["via"]) for e in _of(events, K.SCHED_THREAD)]
        assert sorted(threads, key=str) == sorted(
            [
                (start.req, start.tid, "wsgi"),
                (start.req, seen["server"], "wsgi"),
                (start.req, seen["pool"], "ThreadPoolExecutor.submit"),
                (start.req, seen["loop"], "async_to_sync"),
            ],
            key=str,
        )

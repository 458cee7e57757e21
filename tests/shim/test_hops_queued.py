"""How long a hop waited for a worker: ``queued_ns`` of a hop's ``sched.thread``."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import anyio.to_thread
import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from shim_asgi_apps import call, fetch, of, traced
from test_hops import OFFLOADS, offloading_app

from tracer import events as K
from tracer.events import Event

pytestmark = pytest.mark.timeout(60)


def handed(hop: Event) -> int:
    """When the request handed the hop's work over: its start less the time it queued."""
    return hop.t - hop.data["queued_ns"]


@pytest.mark.parametrize("name", sorted(OFFLOADS))
def test_every_way_of_handing_work_over_says_how_long_it_queued(name: str) -> None:
    """Each hop's ``sched.thread`` has ``queued_ns``: an int from a moment inside the request
    (after its ``request.start``) to the hop's start."""
    offload, via = OFFLOADS[name]
    shim, rec = traced(offloading_app(offload, []))
    asyncio.run(call(shim))
    events = rec.recording().events
    (hop,) = of(events, kind=K.SCHED_THREAD)
    (start,) = of(events, kind=K.REQUEST_START)
    assert hop.data["via"] == via
    assert type(hop.data["queued_ns"]) is int and hop.data["queued_ns"] >= 0
    assert start.t <= handed(hop) <= hop.t


def _limited_app() -> FastAPI:
    app = FastAPI()

    @app.get("/slow", response_class=PlainTextResponse)
    def slow() -> str:  # a def endpoint: one anyio.to_thread hop, under the limiter
        time.sleep(0.05)
        return "slow"

    @app.get("/free", response_class=PlainTextResponse)
    async def free() -> str:  # asyncio's default executor: no limiter, idle workers
        return await asyncio.to_thread(lambda: "free")

    return app


def _waited_through(hop: Event, other: Event) -> bool:
    """Whether ``other`` ran entirely while ``hop``'s work waited for a worker."""
    return handed(hop) <= other.t and other.end <= hop.t


def test_def_endpoints_waiting_for_a_limiter_token_show_it_in_queued_ns() -> None:
    """Six FastAPI ``def`` requests with anyio's limiter at 2 tokens: no more than two hops
    run at once, and a hop that could only start once another had run from start to end
    says so (its queued_ns holds that hop's whole run: the wait began before the token was
    taken). A hop to asyncio's idle default executor, made meanwhile, queued for less than
    any of those."""
    shim, rec = traced(_limited_app())

    async def main() -> list[Any]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 2
        return await fetch(shim, *["/slow"] * 6, "/free")

    responses = asyncio.run(main())
    assert [r.text for r in responses] == ["slow"] * 6 + ["free"]
    hops = of(rec.recording().events, kind=K.SCHED_THREAD)
    limited = [h for h in hops if h.data["via"] == "anyio.to_thread"]
    (free,) = [h for h in hops if h.data["via"] == "asyncio.to_thread"]
    for hop in limited:  # the limiter held: at most two running at any hop's start
        assert sum(other.t <= hop.t < other.end for other in limited) <= 2
    # Each request's first hop is its endpoint (FastAPI may hand it more work afterwards,
    # on the same limiter).
    endpoints = {h.req: h for h in reversed(limited)}.values()
    assert len(endpoints) == 6
    waited = [h for h in endpoints if any(_waited_through(h, o) for o in endpoints if o is not h)]
    assert waited
    for hop in waited:
        assert hop.data["queued_ns"] >= max(o.dur for o in endpoints if _waited_through(hop, o))
    assert 0 <= free.data["queued_ns"] < min(h.data["queued_ns"] for h in waited)


def test_queued_ns_is_only_on_hops() -> None:
    """A WSGI request's own ``sched.thread`` (``via: wsgi``) has no ``queued_ns``."""
    from asgiref.sync import async_to_sync

    from tracer.recorder import Recorder
    from tracer.shim.wsgi import WsgiShim

    async def view() -> bytes:
        return b"async"

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = async_to_sync(view)()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]

    rec = Recorder()
    body = WsgiShim(app, recorder=rec)({"REQUEST_METHOD": "GET"}, lambda *a: None)
    assert list(body) == [b"async"]
    body.close()
    own, hop = of(rec.recording().events, kind=K.SCHED_THREAD)
    assert own.data["via"] == "wsgi" and "queued_ns" not in own.data
    assert hop.data["via"] == "async_to_sync" and hop.data["queued_ns"] >= 0

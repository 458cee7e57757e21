"""Starlette and FastAPI apps, wrapped by the shim, served by hypercorn on trio (its trio worker's
``serve``) on 127.0.0.1: the events hypercorn on asyncio gives, a blocking step located, a
client that leaves mid-stream, the server's cancellation at its stop, a thread hop on trio."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from step_blocks import blocks_at
from trio_apps import anyio_runs_on_trio
from trio_server import serving

from tracer import events as K
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.shim.asgi import AsgiShim

pytest.importorskip("trio")

pytestmark = pytest.mark.timeout(60)

HERE = "tests/shim/test_trio_hypercorn.py"
BACKENDS = ("trio", "asyncio")


async def hello(request: Request) -> Response:
    await anyio.sleep(0)
    return PlainTextResponse("hi")


async def blocks(request: Request) -> Response:
    time.sleep(0.05)  # BLOCKS
    return PlainTextResponse("late")


async def stream(request: Request) -> Response:
    async def chunks() -> Any:
        for _ in range(200):
            yield b"x" * 1000
            await anyio.sleep(0.005)

    return StreamingResponse(chunks())


async def slow(request: Request) -> Response:
    await anyio.sleep(30)
    return PlainTextResponse("never")


STARLETTE = Starlette(
    routes=[
        Route("/", hello),
        Route("/block", blocks),
        Route("/stream", stream),
        Route("/slow", slow),
    ]
)


class Stamps(BaseHTTPMiddleware):
    """Runs the endpoint in a task of its own (anyio's task group), as every FastAPI
    ``@app.middleware("http")`` does."""

    async def dispatch(self, request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["x-stamped"] = "1"
        return response


MIDDLEWARE = Starlette(routes=[Route("/block", blocks)], middleware=[Middleware(Stamps)])

API = FastAPI()


@API.get("/sync")
def sync_endpoint() -> dict[str, int]:
    time.sleep(0.01)
    return {"slept_ms": 10}


def line_of(marker: str) -> int:
    with open(__file__, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.rstrip().endswith(f"# {marker}"):
                return number
    raise LookupError(marker)


def served(app: Any, backend: str, *paths: str) -> list[Event]:
    """Serve ``app`` wrapped on ``backend``, GET each path in turn; the recorded events."""
    recorder = Recorder()
    with serving(AsgiShim(app, recorder=recorder), backend) as url:
        for path in paths:
            assert httpx.get(url + path, timeout=10).status_code == 200
    return recorder.recording().events


def protocol(events: list[Event]) -> list[tuple[int | None, str, dict[str, Any]]]:
    """Each request's protocol events (no steps, no blocks), without what differs between
    two servers and two runs (the client's port, the Host header's, CPU times)."""
    kept = (K.REQUEST_START, K.ASGI_RECEIVE, K.ASGI_SEND, K.REQUEST_END, K.ERROR, K.VIOLATION)
    return [
        (
            e.req,
            e.kind,
            {k: v for k, v in e.data.items() if k not in ("client", "server", "headers")},
        )
        for e in events
        if e.kind in kept
    ]


def test_starlette_on_trio_records_the_protocol_as_on_asyncio() -> None:
    """The lifespan and two requests: every request.start, receive, send and request.end,
    in the same order with the same data on hypercorn's trio serve as on its asyncio one;
    on trio each event names the request's trio task."""
    on_trio = served(STARLETTE, "trio", "/", "/block")
    on_asyncio = served(STARLETTE, "asyncio", "/", "/block")
    assert protocol(on_trio) == protocol(on_asyncio)
    assert [e.kind for e in on_trio if e.req == 2 and e.kind != K.SCHED_STEP] == [
        K.REQUEST_START,
        K.ASGI_SEND,
        K.ASGI_SEND,
        K.REQUEST_END,
    ]
    assert all(e.task for e in on_trio if e.req is not None)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_blocking_endpoint_is_located_on_either_loop(backend: str) -> None:
    """``time.sleep`` in an ``async def`` endpoint: one ``loop.blocked`` at its line on both;
    on trio the list of whom it delayed is said to be a bound from below."""
    events = served(STARLETTE, backend, "/block")
    # The blocks at the endpoint's line: a busy machine can hold any other step past the
    # threshold too, a block of the machine's making (tests/shim/step_blocks.py).
    at = f"{HERE}:{line_of('BLOCKS')}"
    blocks = blocks_at(events, {at})
    assert [(e.req, e.data["location"]) for e in blocks] == [(2, at)]
    assert blocks[0].data.get("delayed_complete", True) is (backend == "asyncio")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_client_leaving_mid_stream_cuts_the_response_short(backend: str) -> None:
    """The client reads a few chunks of a stream and closes: the app hears
    ``http.disconnect``, the request ends 200 and ``cut_short``, no error, on both."""
    if backend == "trio" and not anyio_runs_on_trio():
        pytest.skip("the installed anyio's trio backend needs a newer trio (its cancel scopes)")
    recorder = Recorder()
    with serving(AsgiShim(STARLETTE, recorder=recorder), backend) as url:
        with httpx.stream("GET", url + "/stream", timeout=10) as response:
            for count, _ in enumerate(response.iter_raw(), 1):
                if count == 3:
                    break
        _wait_for(lambda: _ended(recorder, 2))
    events = recorder.recording().events
    assert [e for e in events if e.kind == K.ERROR] == []
    received = [e.data["type"] for e in events if e.req == 2 and e.kind == K.ASGI_RECEIVE]
    assert received[-1] == "http.disconnect"
    end = next(e.data for e in events if e.req == 2 and e.kind == K.REQUEST_END)
    assert (end["status"], end["error"], end.get("cut_short")) == (200, None, True)


WAITS_AT_STOP = pytest.mark.skipif(
    sys.version_info >= (3, 12, 1),
    reason="hypercorn on asyncio stops only once its connections close on 3.12.1+, past its "
    "graceful timeout: its Server.wait_closed() waits for them there (pgjones/hypercorn#308)",
)
"""hypercorn's asyncio stop awaits ``Server.wait_closed()`` before its graceful timeout, and
from 3.12.1 that waits for every open connection: a request in flight keeps it serving."""


@pytest.mark.parametrize("backend", ["trio", pytest.param("asyncio", marks=WAITS_AT_STOP)])
def test_the_servers_stop_cancels_a_request_as_on_asyncio(backend: str) -> None:
    """A request still in flight when hypercorn stops, past its graceful timeout: the server
    cancels it; request.end says ``cancelled`` with no status, no ``error``, on both."""
    recorder = Recorder()
    with serving(AsgiShim(STARLETTE, recorder=recorder), backend, graceful_s=0.1) as url:

        def call() -> None:
            # hypercorn on asyncio answers the cancelled request 500, on trio it closes the
            # connection: the client's side is the server's, not the shim's.
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(url + "/slow", timeout=10)

        caller = threading.Thread(target=call)
        caller.start()
        _wait_for(lambda: any(e.req == 2 for e in recorder.recording().events))
    caller.join(10)
    events = recorder.recording().events
    assert [e for e in events if e.kind == K.ERROR] == []
    end = next(e.data for e in events if e.req == 2 and e.kind == K.REQUEST_END)
    assert (end["status"], end["error"]) == (None, "cancelled")


@pytest.mark.skipif(
    not anyio_runs_on_trio(), reason="the installed anyio's trio backend needs a newer trio"
)
def test_a_def_endpoint_on_trio_is_a_thread_hop_of_its_request() -> None:
    """FastAPI runs a ``def`` endpoint (and its response's validation) with
    ``anyio.to_thread.run_sync``, on trio too: the request's ``sched.thread`` events, via
    ``anyio.to_thread`` on another thread, are those it has on asyncio."""
    events = served(API, "trio", "/sync")
    hops = [e for e in events if e.kind == K.SCHED_THREAD]
    on_asyncio = [e for e in served(API, "asyncio", "/sync") if e.kind == K.SCHED_THREAD]
    assert [(e.req, e.data["via"]) for e in hops] == [(2, "anyio.to_thread")] * 2
    assert [(e.req, e.data["via"]) for e in on_asyncio] == [(2, "anyio.to_thread")] * 2
    start = next(e for e in events if e.req == 2 and e.kind == K.REQUEST_START)
    assert hops[0].tid != start.tid
    end = next(e.data for e in events if e.req == 2 and e.kind == K.REQUEST_END)
    assert (end["status"], end["route"]) == (200, "/sync")


@pytest.mark.skipif(
    not anyio_runs_on_trio(), reason="the installed anyio's trio backend needs a newer trio"
)
def test_the_endpoint_task_of_a_middleware_is_stepped_as_on_asyncio() -> None:
    """``BaseHTTPMiddleware`` runs the endpoint in a task of the request: on trio its steps
    and the block in it are the request's, the same steps at the same places as on asyncio."""

    def endpoint_task(events: list[Event]) -> list[tuple[str, Any]]:
        return [
            (e.kind, e.data.get("awaiting") if e.kind == K.SCHED_STEP else e.data["location"])
            for e in events
            if e.req == 2 and e.task is not None and e.task.endswith("call_next.<locals>.coro")
        ]

    on_trio = endpoint_task(served(MIDDLEWARE, "trio", "/block"))
    assert on_trio == endpoint_task(served(MIDDLEWARE, "asyncio", "/block"))
    assert (K.LOOP_BLOCKED, f"{HERE}:{line_of('BLOCKS')}") in on_trio


def _ended(recorder: Recorder, req: int) -> bool:
    return any(e.req == req and e.kind == K.REQUEST_END for e in recorder.recording().events)


def _wait_for(condition: Any) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)

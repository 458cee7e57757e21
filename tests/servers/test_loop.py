"""The ``loop`` model: ASGI on one event loop, one task per request, uvicorn's behaviour."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from model_driver import by_kind, running, send_all, spans

from sample_apps import blocking, echo, hello, io_bound, websocket
from tracer import events as K
from tracer.errors import InterfaceError, ServerError
from tracer.recorder import Recorder
from tracer.servers import Request, ServerConfig
from tracer.servers.loop import LoopServer
from tracer.servers.scope import BODY_CHUNK, HttpCycle
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(60)


def test_one_request_lifecycle_in_order() -> None:
    """queued -> start -> response.start -> response.body -> end, on the loop thread, in a task."""
    with running("loop", hello.asgi_app) as (model, recorder):
        [response] = send_all(model, [Request()], concurrency=1)
    assert (response.status, response.bytes_out, response.error) == (200, 13, None)
    events = [e for e in recorder.events if e.req == response.req]
    kinds = [(e.kind, e.data.get("type")) for e in events if e.kind != K.SCHED_STEP]
    assert kinds == [
        (K.REQUEST_QUEUED, None),
        (K.REQUEST_START, None),
        (K.ASGI_SEND, "http.response.start"),
        (K.ASGI_SEND, "http.response.body"),
        (K.REQUEST_END, None),
    ]
    assert events[1].thread == "event-loop" and events[1].task == f"request-{response.req}"


def test_async_sleep_requests_overlap() -> None:
    """asyncio.sleep(0.1) at -c 50: at least 40 requests are in flight at once."""
    with running("loop", io_bound.asgi_app) as (model, recorder):
        send_all(model, [Request(query="ms=100")] * 50, concurrency=50)
    summary = summarize(recorder.events)
    assert summary["completed"] == 50
    assert summary["max_in_flight"] >= 40


def test_blocking_call_serialises_requests() -> None:
    """time.sleep inside async def: requests run one at a time; loop blocked about n x sleep."""
    with running("loop", blocking.app, block_threshold_ms=10.0) as (model, recorder):
        send_all(model, [Request(query="ms=40")] * 5, concurrency=5)
    events = recorder.events
    summary = summarize(events)
    assert summary["max_in_flight"] == 1
    blocked = by_kind(events, K.LOOP_BLOCKED)
    assert len(blocked) == 5
    assert 5 * 40 <= summary["loop_blocked_ms"] < 5 * 40 * 3
    assert all("blocking.py" in e.data["location"] for e in blocked)


@pytest.mark.parametrize("raised", [SystemExit(3), KeyboardInterrupt()])
def test_an_app_raising_a_base_exception_leaves_the_loop_running(raised: BaseException) -> None:
    """SystemExit or KeyboardInterrupt out of a request's task would stop the server's loop:
    the model answers 500 and records the error for each, as uvicorn does."""

    async def exits(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            raise raised

    with running("loop", exits) as (model, recorder):
        responses = send_all(model, [Request()] * 6, concurrency=3, timeout=10)
    name = type(raised).__name__
    assert [(r.status, r.error) for r in responses] == [(500, name)] * 6
    assert [e.data["type"] for e in by_kind(recorder.events, K.ERROR)] == [name] * 6


def test_background_work_after_the_response_finishes_before_shutdown() -> None:
    """Starlette's BackgroundTasks run after the body is sent: when the load ends, the model
    lets them finish (as uvicorn does) before lifespan shutdown, instead of cancelling them
    into errors."""
    from starlette.applications import Starlette
    from starlette.background import BackgroundTask
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    done: list[int] = []

    async def later() -> None:
        await asyncio.sleep(0.2)
        done.append(1)

    async def endpoint(request: Any) -> PlainTextResponse:
        return PlainTextResponse("ok", background=BackgroundTask(later))

    app = Starlette(routes=[Route("/", endpoint)])
    with running("loop", app) as (model, recorder):
        responses = send_all(model, [Request()] * 4, concurrency=4)
    assert [r.status for r in responses] == [200] * 4 and done == [1] * 4
    ends = [e for e in recorder.events if e.kind == K.REQUEST_END]
    requests = [e for e in ends if e.req in {r.req for r in responses}]
    assert [e.data["error"] for e in requests] == [None] * 4
    lifespan_end = next(e for e in ends if e.req not in {r.req for r in responses})
    assert lifespan_end.t >= max(e.t for e in requests)
    summary = summarize(recorder.events)
    assert summary["errors"] == 0
    # Latency is the response's (as a client sees it), not the background work's 200 ms.
    assert summary["latency_ms"]["max"] < 150


def test_a_loop_blocked_for_good_is_recorded_when_the_model_gives_up() -> None:
    """A step that never ends would never be recorded: the run would say the loop was never
    blocked. When stop gives up on the loop, the step holding it is a loop.blocked marked
    unfinished, at the line it is stuck on, counted in the summary."""
    import threading

    release = threading.Event()

    async def stuck(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            release.wait(30)  # STUCK

    try:
        with running("loop", stuck) as (model, recorder):
            responses = send_all(model, [Request()] * 2, concurrency=2, timeout=0.3)
    finally:
        release.set()  # the loop thread goes on after the test
    assert [r.error for r in responses] == ["timeout", "timeout"]
    [blocked] = by_kind(recorder.events, K.LOOP_BLOCKED)
    assert blocked.data["unfinished"] is True and blocked.dur >= 300_000_000
    assert blocked.data["location"].endswith(f"test_loop.py:{_line_of('STUCK')}")
    assert summarize(recorder.events)["loop_blocked_ms"] >= 300


def test_a_stuck_step_that_ends_after_all_is_counted_once() -> None:
    """The model gives up on a loop blocked by time.sleep, records the step as unfinished, and
    then the sleep ends: its sched.step follows, with no second loop.blocked (the block used
    to be counted twice, so "loop blocked" could exceed the run's wall time)."""
    import threading
    import time

    release = threading.Event()

    async def sleeper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            release.wait(30)  # SLEEPS
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"late"})

    try:
        with running("loop", sleeper) as (model, recorder):
            [response] = send_all(model, [Request()], concurrency=1, timeout=0.3)
    finally:
        release.set()
    assert response.error == "timeout"
    deadline = time.monotonic() + 10

    def steps() -> list[Any]:
        return [s for s in by_kind(recorder.events, K.SCHED_STEP) if s.req == response.req]

    while not steps():
        assert time.monotonic() < deadline, "the released step never ended"
        time.sleep(0.02)
    recorder.drain()
    [blocked] = by_kind(recorder.events, K.LOOP_BLOCKED)
    assert blocked.data["unfinished"] is True and blocked.req == response.req
    [step] = [s for s in steps() if s.t == blocked.t]
    assert step.dur >= blocked.dur
    assert summarize(recorder.events)["loop_blocked_ms"] == pytest.approx(
        blocked.dur / 1e6, abs=0.01
    )


def _line_of(marker: str) -> int:
    from pathlib import Path

    lines = Path(__file__).read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.rstrip().endswith(f"# {marker}"))


def test_request_body_arrives_in_chunks() -> None:
    """A 100 kB POST: two http.request messages (64 KiB, then the rest), echoed whole."""
    body = b"x" * 100_000
    with running("loop", echo.asgi_app) as (model, recorder):
        [response] = send_all(model, [Request(method="POST", body=body)], concurrency=1)
    assert (response.status, response.bytes_out) == (200, len(body))
    receives = [e.data for e in by_kind(recorder.events, K.ASGI_RECEIVE) if e.req == response.req]
    assert [(r["type"], r["bytes"], r["more_body"]) for r in receives] == [
        ("http.request", BODY_CHUNK, True),
        ("http.request", len(body) - BODY_CHUNK, False),
    ]


def test_disconnect_only_after_the_response() -> None:
    """receive() after the body waits until the response is complete, then says disconnect."""

    async def main() -> list[str]:
        cycle = HttpCycle(b"")
        log: list[str] = []

        async def listen() -> None:
            await cycle.receive()  # the (empty) body
            log.append((await cycle.receive())["type"])

        listener = asyncio.create_task(listen())
        await asyncio.sleep(0)
        await cycle.send({"type": "http.response.start", "status": 200})
        log.append("start sent")
        await asyncio.sleep(0)
        await cycle.send({"type": "http.response.body", "body": b"ok"})
        log.append("body sent")
        await listener
        return log

    assert asyncio.run(main()) == ["start sent", "body sent", "http.disconnect"]


def test_send_never_suspends() -> None:
    """send() completes without yielding to the loop (no backpressure in process)."""
    cycle = HttpCycle(b"")
    coroutine = cycle.send({"type": "http.response.start", "status": 200})
    with pytest.raises(StopIteration):
        coroutine.send(None)


def test_send_out_of_order_raises_like_uvicorn() -> None:
    """A body before the start is refused with uvicorn's RuntimeError; the client gets a 500."""

    async def wrong(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.body", "body": b"x"})

    with running("loop", wrong) as (model, recorder):
        [response] = send_all(model, [Request()], concurrency=1)
    assert (response.status, response.error) == (500, "RuntimeError")
    assert by_kind(recorder.events, K.ERROR)


async def _unknown_message(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.weird"})


async def _returns(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await receive()


async def _cancels(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        raise asyncio.CancelledError()


async def _body_before_start(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.body", "body": b"x"})


@pytest.mark.parametrize(
    ("app", "error"),
    [
        (_body_before_start, "RuntimeError"),
        (_unknown_message, "RuntimeError"),
        (_returns, None),
        (_cancels, "CancelledError"),
    ],
)
def test_an_app_ending_without_a_response_start_is_recorded_as_uvicorns_500(
    app: Any, error: str | None
) -> None:
    """uvicorn answers 500 to a body or unknown message before any start, to an app returning
    without a response, and to a CancelledError the app raised itself: the client gets it and
    the shim's ``request.end`` says so; only a stop's cancellation is ``cancelled``."""
    with running("loop", app) as (model, recorder):
        responses = send_all(model, [Request()] * 2, concurrency=1)
    assert [(r.status, r.error) for r in responses] == [(500, error)] * 2
    ends = by_kind(recorder.events, K.REQUEST_END)
    assert [(e.data["status"], e.data["error"]) for e in ends if e.req in {r.req for r in
        responses}] == [(500, error)] * 2  # fmt: skip


def test_a_body_that_is_not_bytes_raises_like_uvicorn() -> None:
    """A str body: send raises TypeError into the app, as uvicorn's transport does; the
    response is cut short and both sides say so."""

    async def text(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": "text"})

    with running("loop", text) as (model, recorder):
        [response] = send_all(model, [Request()], concurrency=1)
    assert (response.status, response.error) == (200, "TypeError")
    assert summarize(recorder.events)["errors"] == 1


def test_lifespan_runs_and_shares_state() -> None:
    """Lifespan startup before requests (its state reaches each scope), shutdown at stop."""
    log: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                log.append(message["type"])
                if message["type"] == "lifespan.startup":
                    scope["state"]["ready"] = True
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        log.append(f"request ready={scope['state'].get('ready')}")
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body"})

    with running("loop", app) as (model, _):
        send_all(model, [Request()], concurrency=1)
        assert model.lifespan is True  # type: ignore[attr-defined]
    assert log == ["lifespan.startup", "request ready=True", "lifespan.shutdown"]


def test_app_without_lifespan_is_served() -> None:
    """An app that raises on the lifespan scope is served without lifespan (uvicorn's auto)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body"})

    with running("loop", app) as (model, _):
        [response] = send_all(model, [Request()], concurrency=1)
        assert model.lifespan is False  # type: ignore[attr-defined]
    assert response.status == 200


async def _startup_fails(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})
        return
    await send({"type": "http.response.start", "status": 200})
    await send({"type": "http.response.body"})


def test_lifespan_startup_failed_is_not_served() -> None:
    """An app that sends lifespan.startup.failed: start() raises a ServerError naming its
    message, as uvicorn refuses to start it, and the loop is stopped; the lifespan's events
    are recorded."""
    recorder = Recorder()
    model = LoopServer(ServerConfig(app=_startup_fails), recorder)
    with pytest.raises(ServerError, match='failed: "no database"'):
        model.start()
    assert not model.thread.is_alive()
    sends = [e.data["type"] for e in by_kind(recorder.events, K.ASGI_SEND)]
    assert sends == ["lifespan.startup.failed"]


@pytest.mark.parametrize("how", ["raises", "returns"])
def test_lifespan_that_raises_or_returns_at_startup_is_served_without_it(how: str) -> None:
    """Startup that raises, or returns without answering: served without lifespan, as
    uvicorn's lifespan="auto" goes on (it logs the protocol "appears unsupported")."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            if how == "raises":
                raise RuntimeError("startup boom")
            return
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body"})

    with running("loop", app) as (model, _):
        responses = send_all(model, [Request()] * 3, concurrency=3)
        assert model.lifespan is False  # type: ignore[attr-defined]
    assert [r.status for r in responses] == [200] * 3


def test_websocket_echo() -> None:
    """A websocket session: connect, accept, 3 messages echoed, disconnect; status 101."""
    with running("loop", websocket.app) as (model, recorder):
        [response] = send_all(
            model, [Request(path="/ws", websocket=True, ws_messages=3)], concurrency=1
        )
    assert (response.status, response.bytes_out) == (101, 3 * len("message 1"))
    received = [e.data["type"] for e in by_kind(recorder.events, K.ASGI_RECEIVE)]
    assert received == ["websocket.connect"] + ["websocket.receive"] * 3 + ["websocket.disconnect"]


def test_timeout_of_a_hung_request() -> None:
    """An app that never answers: the client's timeout is the request's end; stop returns."""

    async def hang(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(30)

    with running("loop", hang) as (model, recorder):
        [response] = send_all(model, [Request()], concurrency=1, timeout=0.05)
    assert response.error == "timeout"
    first_end = [e for e in by_kind(recorder.events, K.REQUEST_END) if e.req == response.req][0]
    assert first_end.data["error"] == "timeout"
    assert summarize(recorder.events)["errors"] == 1


def test_scope_is_complete() -> None:
    """Method, path, query, lowercased headers, versions, addresses and our extension."""
    seen: dict[str, Any] = {}

    async def capture(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            seen.update(scope)
            await send({"type": "http.response.start", "status": 204})
            await send({"type": "http.response.body"})

    with running("loop", capture) as (model, _):
        [response] = send_all(
            model, [Request("DELETE", "/x", "a=1", (("X-Y", "z"),))], concurrency=1
        )
    assert (seen["method"], seen["path"], seen["query_string"]) == ("DELETE", "/x", b"a=1")
    assert seen["headers"] == [(b"x-y", b"z")] and seen["http_version"] == "1.1"
    assert seen["asgi"]["version"] == "3.0" and seen["client"][0] == "127.0.0.1"
    assert seen["server"] == ("127.0.0.1", 8000)
    assert seen["extensions"]["gateway_tracer"] == {"req": response.req}


def test_wsgi_app_is_refused() -> None:
    """A WSGI app on --server loop: an InterfaceError that names the model to use."""
    with pytest.raises(InterfaceError, match="--server threads"):
        LoopServer(ServerConfig(app=hello.application), Recorder())


def test_every_request_is_on_the_loop_thread() -> None:
    """All request tasks run on the one event-loop thread."""
    with running("loop", io_bound.asgi_app) as (model, recorder):
        send_all(model, [Request(query="ms=5")] * 10, concurrency=10)
    starts = [s[K.REQUEST_START] for s in spans(recorder.events).values() if K.REQUEST_QUEUED in s]
    assert len(starts) == 10 and {e.tid for e in starts} == {model.thread.ident}  # type: ignore[attr-defined]


def test_closed_loop_clients_are_not_held_back_by_a_blocked_server_loop() -> None:
    """`trace run` with -c 4 against a handler that blocks the loop 20 ms: every client sends
    its next request as soon as its response is complete, so from the first answer on all 4
    are outstanding at once; they wait at the server, and that wait is their latency (the
    clients used to share the server's loop and were held back with it)."""
    from tracer.run import RunConfig, run

    recorder = Recorder()
    config = RunConfig(
        app="sample_apps.blocking:app",
        server="loop",
        concurrency=4,
        requests=24,
        paths=("/?ms=20",),
    )
    result = run(config, recorder)
    assert result.stats.done == 24 and result.stats.errors == 0
    events = recorder.events
    queued = {e.req: e.t for e in events if e.kind == K.REQUEST_QUEUED}
    ended = {e.req: e.end for e in events if e.kind == K.REQUEST_END and e.req in queued}
    assert len(ended) == 24
    # A client's next request leaves when its previous answer ended: at each answer after the
    # first round, the other 3 clients' requests are all outstanding (queued, not yet ended).
    for end in sorted(ended.values())[4:-4]:
        outstanding = sum(1 for r, t in queued.items() if t <= end < ended[r])
        assert outstanding >= 3, (end, outstanding)
    # So the wait shows: a request waits for the 3 blocks ahead of it, plus its own.
    latencies = sorted(ended[r] - queued[r] for r in ended)
    assert latencies[len(latencies) // 2] >= 3 * 20_000_000

"""The ``threads`` model: N workers from one FIFO queue, real environ, WSGI served as waitress does."""

from __future__ import annotations

import asyncio
import io
import threading
from typing import Any

import pytest
from model_driver import by_kind, running, send_all, spans

from sample_apps import cpu_bound, echo, hello, io_bound
from tracer import events as K
from tracer.errors import InterfaceError
from tracer.recorder import Recorder
from tracer.servers import Request, ServerConfig
from tracer.servers.threads import ThreadsServer
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(60)


def test_one_request_lifecycle_in_order() -> None:
    """queued (client side) -> start on a worker -> start_response -> body -> end, one id."""
    with running("threads", hello.application) as (model, recorder):
        [response] = send_all(model, [Request()], concurrency=1)
    assert (response.status, response.bytes_out, response.error) == (200, 13, None)
    events = [e for e in recorder.events if e.req == response.req]
    assert [e.kind for e in events] == [
        K.REQUEST_QUEUED,
        K.REQUEST_START,
        K.WSGI_START_RESPONSE,
        K.WSGI_BODY,
        K.WSGI_CLOSE,
        K.SCHED_THREAD,
        K.REQUEST_END,
    ]
    assert events[0].data == {"method": "GET", "path": "/"}
    start = events[1]
    assert start.thread.startswith("waitress-") and start.tid != events[0].tid
    assert events[-1].data["status"] == 200


def test_never_more_than_n_in_flight_and_the_rest_queue() -> None:
    """time.sleep on 4 threads at -c 20: at most 4 run at once; the others wait for a worker."""
    requests = [Request(path="/", query="ms=50")] * 20
    with running("threads", io_bound.wsgi_app, threads=4) as (model, recorder):
        send_all(model, requests, concurrency=20)
    lifecycle = spans(recorder.events)
    edges = sorted(
        [(s[K.REQUEST_START].t, 1) for s in lifecycle.values()]
        + [(s[K.REQUEST_END].end, -1) for s in lifecycle.values()],
        key=lambda edge: (edge[0], edge[1]),
    )
    running_now = peak = 0
    for _, delta in edges:
        running_now += delta
        peak = max(peak, running_now)
    assert peak == 4
    ends = sorted(s[K.REQUEST_END].end for s in lifecycle.values())
    waited = [s for s in lifecycle.values() if s[K.REQUEST_START].t >= ends[0]]
    assert len(waited) >= 16  # started only after an earlier request freed its worker
    assert len({s[K.REQUEST_START].tid for s in lifecycle.values()}) == 4


def test_cpu_bound_gets_no_speed_up_from_threads() -> None:
    """Pure-Python CPU work on 4 threads: threads overlap in wall time but CPU time does not add up."""
    requests = [Request(query="ms=15")] * 12
    with running("threads", cpu_bound.wsgi_app, threads=4) as (model, recorder):
        send_all(model, requests, concurrency=12)
    events = recorder.events
    lifecycle = spans(events)
    first = min(s[K.REQUEST_START].t for s in lifecycle.values())
    last = max(s[K.REQUEST_END].end for s in lifecycle.values())
    cpu = sum(e.data.get("cpu_ns") or 0 for e in by_kind(events, K.SCHED_THREAD))
    busy = sum(e.dur or 0 for e in by_kind(events, K.SCHED_THREAD))
    assert cpu >= 12 * 15_000_000  # each request burned its CPU time
    assert last - first >= 0.9 * cpu  # ... one at a time: the GIL serialises them
    assert busy >= 2 * (last - first)  # while 4 threads were occupied the whole time


def test_app_exception_is_a_500_and_recorded() -> None:
    """An app that raises: the client gets 500, the error is an event, the server goes on."""

    def broken(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise ValueError("boom")

    with running("threads", broken) as (model, recorder):
        responses = send_all(model, [Request()] * 3, concurrency=3)
    assert [(r.status, r.error) for r in responses] == [(500, "ValueError")] * 3
    assert len(by_kind(recorder.events, K.ERROR)) == 3


@pytest.mark.parametrize("raised", [SystemExit(3), KeyboardInterrupt()])
def test_an_app_raising_a_base_exception_keeps_its_worker(raised: BaseException) -> None:
    """SystemExit or KeyboardInterrupt from the app is a 500 and an error event, as any other
    exception: the worker thread lives on (one worker serves all six requests)."""

    def exits(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise raised

    with running("threads", exits, threads=1) as (model, recorder):
        responses = send_all(model, [Request()] * 6, concurrency=3, timeout=10)
    name = type(raised).__name__
    assert [(r.status, r.error) for r in responses] == [(500, name)] * 6
    assert [e.data["type"] for e in by_kind(recorder.events, K.ERROR)] == [name] * 6


def test_request_body_is_a_wsgi_input_stream() -> None:
    """A 100 kB POST: the app reads it from wsgi.input and echoes every byte."""
    body = bytes(range(256)) * 400
    request = Request(
        method="POST",
        path="/echo",
        body=body,
        headers=(("content-type", "application/octet-stream"),),
    )
    with running("threads", echo.wsgi_app) as (model, recorder):
        [response] = send_all(model, [request], concurrency=1)
    assert (response.status, response.bytes_out) == (200, len(body))
    reads = by_kind(recorder.events, K.WSGI_INPUT_READ)
    assert sum(e.data["bytes"] for e in reads) == len(body)


def test_environ_is_complete() -> None:
    """Method, path, query, headers, protocol, addresses and the wsgi.* keys are all there."""
    seen: dict[str, Any] = {}

    def capture(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(environ)
        start_response("204 No Content", [])
        return []

    request = Request(
        method="PUT",
        path="/a%20b",
        query="x=1",
        headers=(("X-Thing", "1"), ("x-thing", "2")),
        body=b"hi",
    )
    with running("threads", capture) as (model, _):
        [response] = send_all(model, [request], concurrency=1)
    assert response.status == 204
    assert seen["REQUEST_METHOD"] == "PUT" and seen["PATH_INFO"] == "/a b"
    assert seen["QUERY_STRING"] == "x=1" and seen["HTTP_X_THING"] == "1,2"
    assert seen["SERVER_PROTOCOL"] == "HTTP/1.1" and seen["CONTENT_LENGTH"] == "2"
    assert seen["REMOTE_ADDR"] == "127.0.0.1" and seen["SERVER_PORT"] == "8000"
    assert seen["wsgi.version"] == (1, 0) and seen["wsgi.multithread"] is True
    assert seen["gateway_tracer.req"] == response.req


def _hangs_until(release: threading.Event) -> Any:
    """A WSGI app whose requests hang until ``release`` is set (5 s at most)."""

    def hang(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        release.wait(5)
        start_response("200 OK", [])
        return [b""]

    return hang


def test_timeout_ends_the_request_and_the_run() -> None:
    """A hung worker: the client's timeout is recorded as the request's end; stop does not hang."""
    release = threading.Event()
    hang = _hangs_until(release)
    with running("threads", hang, threads=1) as (model, recorder):
        responses = send_all(model, [Request()] * 2, concurrency=2, timeout=0.05)
        release.set()  # the worker goes on after the client left; then it can stop
    assert [r.error for r in responses] == ["timeout", "timeout"]
    ends = by_kind(recorder.events, K.REQUEST_END)
    assert {e.data["error"] for e in ends[:2]} == {"timeout"}


def test_an_endless_body_stops_being_pulled_once_its_client_left() -> None:
    """A generator that never ends: the worker iterated it for ever after the client's
    timeout, filling memory and the recording, and the run never ended. As waitress (its write
    raises ClientDisconnected), the worker stops pulling at the next chunk after the client
    left and closes the iterable; the shim's end says close was called."""
    closed = threading.Event()

    def endless(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])

        def chunks() -> Any:
            try:
                while True:
                    yield b"x" * 1024
            finally:
                closed.set()

        return chunks()

    with running("threads", endless, threads=1) as (model, recorder):
        responses = send_all(model, [Request()], concurrency=1, timeout=0.1)
        assert closed.wait(10), "the body was never closed"
    assert [r.error for r in responses] == ["timeout"]
    ends = by_kind(recorder.events, K.REQUEST_END)
    assert [e.data["error"] for e in ends] == ["timeout", None]
    assert ends[1].data["close_called"] is True and ends[1].data["status"] == 200


def test_a_timeout_noticed_late_is_dated_at_the_deadline() -> None:
    """The client loop fell behind (an overloaded open-loop run): the app's end was recorded
    after the deadline but before the client's sweep got to the request. The timeout is dated
    at the deadline, so the summary counts what the client counted (it said 200, seconds past
    --timeout)."""
    import time

    from tracer.servers.job import JobTarget

    recorder = Recorder()

    async def main() -> Any:
        target = JobTarget(recorder)
        job = target.arrive(Request())
        waiting = asyncio.ensure_future(target.wait(job, timeout=0.05))
        await asyncio.sleep(0)  # the deadline is set
        time.sleep(0.15)  # the client loop is busy elsewhere; meanwhile the app answers:
        recorder.emit(K.REQUEST_START, job.req, {"scope_type": "http"}, t=recorder.now() - 1)
        recorder.emit(K.REQUEST_END, job.req, {"status": 200, "error": None})
        return await waiting

    response = asyncio.run(main())
    assert response.error == "timeout"
    summary = summarize(recorder.events)
    assert summary["errors"] == 1 and summary["status"] == {}
    assert summary["latency_ms"]["max"] < 100  # the deadline, 50 ms in (not the 150 ms look)


def test_asgi_app_is_refused() -> None:
    """An ASGI app on --server threads: an InterfaceError that names the model to use."""
    with pytest.raises(InterfaceError, match="--server loop"):
        ThreadsServer(ServerConfig(app=hello.asgi_app), Recorder())


def test_stop_returns_with_idle_workers() -> None:
    """Stopping an idle pool returns at once and leaves no worker thread running."""
    with running("threads", hello.application, threads=3) as (model, _):
        pass
    assert not any(t.is_alive() for t in model.pool.threads)  # type: ignore[attr-defined]


def test_timeouts_work_again_on_a_later_client_loop() -> None:
    """A target used from two client loops in turn still times requests out on the second."""
    release = threading.Event()
    hang = _hangs_until(release)
    with running("threads", hang, threads=2) as (model, _):
        first = send_all(model, [Request()], concurrency=1, timeout=0.03)
        second = send_all(model, [Request()], concurrency=1, timeout=0.03)
        release.set()
    assert [r.error for r in first + second] == ["timeout", "timeout"]


def test_file_wrapper_is_the_servers_own() -> None:
    """An app returning wsgi.file_wrapper(file): the server sends the whole file and closes it."""
    opened: list[io.BytesIO] = []

    def send_file(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        opened.append(io.BytesIO(b"f" * 70_000))
        return environ["wsgi.file_wrapper"](opened[0], 8192)

    with running("threads", send_file) as (model, recorder):
        [response] = send_all(model, [Request()], concurrency=1)
    assert (response.status, response.bytes_out) == (200, 70_000)
    assert opened[0].closed
    [end] = [e for e in recorder.events if e.kind == K.REQUEST_END]
    assert end.data.get("file_wrapper") is True


def _ints(environ: dict[str, Any], start_response: Any) -> Any:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [1, 2, 3]


def _bytes_then_int(environ: dict[str, Any], start_response: Any) -> Any:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok", 5]


def _no_start_response(environ: dict[str, Any], start_response: Any) -> Any:
    return [b"hi"]


def _status_without_code(environ: dict[str, Any], start_response: Any) -> Any:
    start_response("abc", [("Content-Type", "text/plain")])
    return [b"hi"]


@pytest.mark.parametrize(
    "app,status,size,error",
    [
        (_ints, 500, 0, "TypeError"),
        (_bytes_then_int, 200, 2, "TypeError"),
        (_no_start_response, 500, 0, "RuntimeError"),
        (_status_without_code, 500, 0, "ValueError"),
    ],
)
def test_a_response_the_server_cannot_send_is_an_error_on_both_sides(
    app: Any, status: int, size: int, error: str
) -> None:
    """Body items that are not bytes, a body before start_response, a status without a code:
    the client gets a 500 (or a response cut short, once bytes were sent) and the error, as
    from waitress; the recording ends each request the same way (an ``error`` event, the
    first ``request.end``), so the report counts what the live counter counts."""
    with running("threads", app) as (model, recorder):
        responses = send_all(model, [Request()] * 3, concurrency=3)
    assert [(r.status, r.bytes_out, r.error) for r in responses] == [(status, size, error)] * 3
    events = recorder.events
    assert [e.data["type"] for e in by_kind(events, K.ERROR)] == [error] * 3
    summary = summarize(events)
    assert summary["errors"] == 3
    assert summary["status"] == {str(status): 3}  # the status the client got, 500 included
    for response in responses:
        [first_end, *_] = [e for e in by_kind(events, K.REQUEST_END) if e.req == response.req]
        assert first_end.data["error"] == error


def test_more_threads_than_the_system_allows_is_one_error_and_no_workers_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--threads 100000 was a RuntimeError traceback (and, with 22,000 workers left behind,
    an aborted interpreter exit). The system's refusal is faked after three threads: a
    ServerError saying how many started, and those three end."""
    from tracer.errors import ServerError

    real_start = threading.Thread.start
    started: list[threading.Thread] = []

    def start(thread: threading.Thread) -> None:
        if thread.name.startswith("waitress-") and len(started) == 3:
            raise RuntimeError("can't start new thread")
        if thread.name.startswith("waitress-"):
            started.append(thread)
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    server = ThreadsServer(ServerConfig(app=hello.wsgi_app, threads=10), Recorder())
    with pytest.raises(ServerError, match="only 3 of the 10 threads"):
        server.start()
    assert len(started) == 3 and not any(t.is_alive() for t in started)

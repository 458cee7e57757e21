"""``tracer.run.run`` called where an event loop is already running in the calling thread: a
Jupyter cell (the kernel runs every cell inside its loop) or an ``async def``. Each test calls
it from inside ``asyncio.run`` of a coroutine, the situation of a notebook cell.
"""

from __future__ import annotations

import _thread
import asyncio
import signal
import threading

import pytest

from tracer import events as K
from tracer.errors import UsageError
from tracer.loadgen import LoadStats
from tracer.recorder import Recorder
from tracer.run import RunConfig, open_server, run


def _ended(recorder: Recorder) -> list[int]:
    return sorted({e.req for e in recorder.events if e.kind == K.REQUEST_END and e.req})


def _http(recorder: Recorder) -> set[int]:
    """The requests of the load (the loop model's lifespan connection left out)."""
    return {
        e.req
        for e in recorder.events
        if e.kind == K.REQUEST_START and e.data.get("scope_type", "http") == "http"
    }


def test_run_from_inside_a_running_loop_records_every_request() -> None:
    config = RunConfig(app="sample_apps.hello:asgi_app", requests=20, concurrency=5, seed=1)
    recorder = Recorder()

    async def cell() -> tuple[int, bool]:
        result = run(config, recorder)
        return result.stats.done, result.stopped

    assert asyncio.run(cell()) == (20, False)
    assert len(_http(recorder)) == 20
    assert _http(recorder) <= set(_ended(recorder))
    # The load's own thread is gone once run returns.
    assert "gateway-tracer-load" not in {t.name for t in threading.enumerate()}


def test_run_of_a_wsgi_app_object_from_inside_a_running_loop() -> None:
    """An app defined in the notebook itself, handed over as an object (no module path)."""

    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
        return [b"hi"]

    config = RunConfig(requests=12, concurrency=3, server="threads", threads=2)
    recorder = Recorder()

    async def cell() -> int:
        server = open_server(config, recorder, app=app)
        return run(config, recorder, server=server).stats.done

    assert asyncio.run(cell()) == 12
    assert len(_http(recorder)) == 12
    assert _http(recorder) <= set(_ended(recorder))


def test_an_error_of_the_load_inside_a_running_loop_is_raised_as_it_is() -> None:
    """What fails in the load's loop reaches the caller as the same exception."""
    config = RunConfig(app="sample_apps.hello:asgi_app", requests=50, concurrency=2)
    recorder = Recorder()

    class Boom(Exception):
        pass

    def progress(stats: object) -> None:
        raise Boom("from progress")

    async def cell() -> None:
        run(config, recorder, progress=progress)

    with pytest.raises(Boom, match="from progress"):
        asyncio.run(cell())


def test_an_interrupt_inside_a_running_loop_stops_the_load_and_is_raised() -> None:
    """A kernel interrupt (SIGINT: KeyboardInterrupt in the main thread) while ``run`` waits
    for its load stops the load and the server, then reaches the cell as KeyboardInterrupt.
    The kernel runs a cell with Python's own SIGINT handler (ipykernel's ``pre_handler_hook``),
    not asyncio.run's, which only cancels the task at its next await."""
    config = RunConfig(
        app="sample_apps.io_bound:asgi_app",
        paths=("/?ms=20",),
        requests=None,
        duration=300.0,  # a stop that does not work runs into the test timeout
        concurrency=4,
    )
    recorder = Recorder()
    seen: list[LoadStats] = []

    def progress(stats: LoadStats) -> None:
        if not seen:  # the load is under way: press Ctrl-C once
            seen.append(stats)
            _thread.interrupt_main()

    async def cell() -> None:
        before = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            run(config, recorder, progress=progress)
        finally:
            signal.signal(signal.SIGINT, before)

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(cell())
    assert seen[0].stopped  # the load saw the stop and ended early
    assert "gateway-tracer-load" not in {t.name for t in threading.enumerate()}
    # Every request that was started ended (the server was stopped, not abandoned).
    assert _http(recorder) and _http(recorder) <= set(_ended(recorder))


def test_a_stop_the_clients_saw_before_the_progress_tick_is_a_stop() -> None:
    """``stop`` set while requests are in flight that then end within the load's 0.1 s
    progress tick: the clients send no more and the load ends, and the result says it was
    stopped (it read ``stopped=False``, as if the run had done what it was asked)."""
    stop = threading.Event()
    seen: list[int] = []

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        if scope["type"] != "http":
            return
        seen.append(1)
        if len(seen) == 3:
            stop.set()  # from the server's side: the next requests are not sent
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"hi"})  # type: ignore[operator]

    config = RunConfig(requests=None, duration=30.0, concurrency=2, server="loop")
    recorder = Recorder()
    server = open_server(config, recorder, app=app)
    result = run(config, recorder, server=server, stop=stop)
    assert result.stats.sent < 10
    assert result.stopped is True


@pytest.mark.parametrize("model", ["processes", "uvicorn"])
def test_an_app_object_for_a_model_that_imports_the_app_by_name_is_refused(model: str) -> None:
    """An app defined in a notebook cannot reach fresh worker processes (they import APP by
    name): the workers ran ``RunConfig.app`` instead (the default hello app), and the error
    named an app the user never gave."""

    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        return [b"x"]

    config = RunConfig(requests=4, concurrency=1, server=model)
    recorder = Recorder()
    with pytest.raises(UsageError) as caught:
        open_server(config, recorder, app=app)
    assert str(caught.value) == (
        f"--server {model} starts processes that import the app by name; an app object runs "
        "only on threads, loop and wsgi-on-loop: give RunConfig(app='module:attr') instead."
    )
    assert recorder.header.get("server") in (None, {})

"""The ``wsgi-on-loop`` model: asgiref's WsgiToAsgi on a loop runs every request on one thread."""

from __future__ import annotations

import concurrent.futures.thread
import gc
import json
import subprocess
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

import pytest
from model_driver import by_kind, running, send_all, spans

from sample_apps import echo, hello, io_bound
from tracer import events as K
from tracer.errors import InterfaceError
from tracer.recorder import Recorder
from tracer.run import RunConfig, open_server, run
from tracer.servers import Request, ServerConfig
from tracer.servers.wsgi_on_loop import WsgiOnLoopServer
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(60)


def test_every_request_on_one_thread_one_at_a_time() -> None:
    """time.sleep requests at -c 8: all run on the same sync_to_async thread, never two at once."""
    with running("wsgi-on-loop", io_bound.wsgi_app) as (model, recorder):
        responses = send_all(model, [Request(query="ms=20")] * 8, concurrency=8)
    assert [r.status for r in responses] == [200] * 8
    lifecycle = spans(recorder.events)
    starts = [s[K.REQUEST_START] for s in lifecycle.values() if K.REQUEST_QUEUED in s]
    assert len(starts) == 8
    assert len({e.tid for e in starts}) == 1
    assert starts[0].tid != model.thread.ident  # type: ignore[attr-defined]  # not the loop itself
    assert summarize(recorder.events)["max_in_flight"] == 1


def test_request_id_reaches_the_wsgi_shim() -> None:
    """The server model's request id (queued) is the one the WSGI shim uses (start, end)."""
    with running("wsgi-on-loop", hello.application) as (model, recorder):
        [response] = send_all(model, [Request()], concurrency=1)
    kinds = [e.kind for e in recorder.events if e.req == response.req]
    assert kinds[0] == K.REQUEST_QUEUED and K.REQUEST_START in kinds and kinds[-1] == K.REQUEST_END
    assert response.status == 200 and response.bytes_out == 13


def test_body_is_spooled_to_the_app() -> None:
    """A 100 kB POST goes through WsgiToAsgi's spooled body to wsgi.input and back."""
    body = b"y" * 100_000
    with running("wsgi-on-loop", echo.wsgi_app) as (model, _):
        [response] = send_all(
            model,
            [Request(method="POST", body=body, headers=(("content-length", "100000"),))],
            concurrency=1,
        )
    assert (response.status, response.bytes_out) == (200, len(body))


def test_asgi_app_is_refused() -> None:
    """WsgiToAsgi wraps WSGI apps only."""
    with pytest.raises(InterfaceError):
        WsgiOnLoopServer(ServerConfig(app=hello.asgi_app), Recorder())


def _hangs_until(release: threading.Event) -> Any:
    """A WSGI app whose requests wait for ``release`` (30 s at most), then answer."""

    def hang(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        release.wait(30)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"late"]

    return hang


@pytest.mark.timeout(20)
def test_a_hung_app_times_out_and_the_run_ends() -> None:
    """The app never answers within the client's timeout: the run returns, the request ended
    once, as timeout (as on the threads model), and its thread is a daemon left in the app.
    Released afterwards, the app's late response goes nowhere: no coroutine left un-awaited,
    no loop started for it, and the thread ends."""
    release = threading.Event()
    recorder = Recorder()
    config = RunConfig(app="hang", server="wsgi-on-loop", concurrency=1, requests=1, timeout=0.2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            server = open_server(config, recorder, app=_hangs_until(release))
            assert isinstance(server, WsgiOnLoopServer)
            result = run(config, recorder, server=server)
            [start] = by_kind(recorder.events, K.REQUEST_START)
            [app_thread] = [t for t in threading.enumerate() if t.ident == start.tid]
            # Stuck, but no bar to the interpreter's exit: a daemon, and not one of the
            # ThreadPoolExecutor threads that concurrent.futures joins at exit.
            assert app_thread.is_alive() and app_thread.daemon
            assert app_thread not in getattr(concurrent.futures.thread, "_threads_queues", {})
            ends = by_kind(recorder.events, K.REQUEST_END)
            before = set(threading.enumerate())
        finally:
            release.set()
        app_thread.join(10)
        gc.collect()
    assert (result.stats.timeouts, result.stats.done) == (1, 1)
    [end] = ends
    assert end.data["error"] == "timeout" and end.data["status"] is None
    assert end.tid != app_thread.ident
    assert not app_thread.is_alive()
    assert set(threading.enumerate()) <= before
    assert [w for w in caught if issubclass(w.category, RuntimeWarning)] == []


@pytest.mark.timeout(60)
def test_a_hung_app_does_not_keep_trace_run_alive(tmp_path: Path) -> None:
    """``trace run --server wsgi-on-loop`` with an app that never returns exits once the run
    is over, as with the threads model, and warns of nothing."""
    (tmp_path / "hangapp.py").write_text(
        "import threading\ndef app(environ, start_response):\n    threading.Event().wait()\n"
    )
    record = tmp_path / "run.jsonl"
    trace = subprocess.Popen(
        [sys.executable, "-W", "error::RuntimeWarning", "-m", "tracer", "run", "hangapp:app",
         "--server", "wsgi-on-loop", "-n", "1", "-c", "1", "--timeout", "0.3s", "--json",
         "--app-dir", str(tmp_path), "--record", str(record)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        out, err = trace.communicate(timeout=30)
    finally:
        if trace.poll() is None:
            trace.kill()
            trace.wait()
    assert trace.returncode == 0, err
    assert "RuntimeWarning" not in err and "never awaited" not in err, err
    assert json.loads(out)["errors"] == 1
    events = [json.loads(line) for line in record.read_text().splitlines()[1:]]
    ends = [e for e in events if e["kind"] == K.REQUEST_END]
    assert [e["data"]["error"] for e in ends] == ["timeout"]


def _raises_mid_body(environ: dict[str, Any], start_response: Any) -> Any:
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"part1"
    raise RuntimeError("boom mid body")


def _returns_none(environ: dict[str, Any], start_response: Any) -> Any:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return None


@pytest.mark.parametrize("app", [_raises_mid_body, _returns_none])
def test_a_response_whose_iteration_raises_still_ends(app: Any) -> None:
    """asgiref drops the response iterable unclosed when iterating it raises; every request
    still ends at once (not when the garbage collector breaks the exception's reference cycle:
    it is off here), its error recorded, and its client gets the error, as on threads."""
    gc.disable()
    try:
        with running("wsgi-on-loop", app) as (model, recorder):
            responses = send_all(model, [Request()] * 6, concurrency=3)
            events = recorder.events
    finally:
        gc.enable()
    error = "RuntimeError" if app is _raises_mid_body else "TypeError"
    assert [r.error for r in responses] == [error] * 6
    ends = by_kind(events, K.REQUEST_END)
    assert sorted(e.req for e in ends) == sorted(r.req for r in responses)
    assert {e.data["error"] for e in ends} == {error}
    assert len(by_kind(events, K.ERROR)) == 6
    for response in responses:
        kinds = [e.kind for e in events if e.req == response.req]
        assert kinds.index(K.ERROR) < kinds.index(K.REQUEST_END)


def _ints(environ: dict[str, Any], start_response: Any) -> Any:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [1, 2, 3]


def test_a_body_item_that_is_not_bytes_is_an_error_on_both_sides() -> None:
    """An app returning [1, 2, 3]: the loop cannot send an int (uvicorn's transport raises), so
    the client sees the response fail, and the recording ends the request the same way (the
    shim saw nothing wrong): the report counts what the live counter counts."""
    with running("wsgi-on-loop", _ints) as (model, recorder):
        responses = send_all(model, [Request()] * 3, concurrency=3)
        events = recorder.events
    assert [(r.status, r.error) for r in responses] == [(200, "TypeError")] * 3
    assert [e.data["type"] for e in by_kind(events, K.ERROR)] == ["TypeError"] * 3
    assert summarize(events)["errors"] == 3

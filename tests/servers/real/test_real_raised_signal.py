"""A server process that ends by raising its stop signal on itself loses none of its events.

uvicorn shuts down gracefully on SIGTERM, then raises the signal again to end its process as
killed by it, which skips atexit: a server process's recorder, which writes every 20 ms and at
exit, lost what the app recorded since its last write. A request the run's stop cancelled
then lost the app's last read of its body, or its whole end when the app finished during the
stop: the load generator ended it as cancelled, counting only the reads merged before. The
tests run each process with a write interval longer than the test (60 s), so every event
reaches the parent only through what a process writes as it ends, whichever way it ends."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from pathlib import Path
from typing import Any

import pytest
from real_helpers import alive

from tracer import events as K
from tracer.client import ClientConfig
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.servers import Request, ServerConfig
from tracer.servers.real.bootstrap import ENV
from tracer.servers.real.harness import group_members
from tracer.servers.real.uvicorn import UvicornServer

pytestmark = pytest.mark.timeout(60)

BODY = b"x" * 100

# Reads 30 bytes of the body and marks itself started; once the test's ``release`` file is
# there (at most 10 s), reads 20 more and answers. The ASGI one answers at once and declines
# the lifespan, as an app without lifespan support does (uvicorn then serves it without).
APP = """
import time
from pathlib import Path


def app(environ, start_response):
    environ["wsgi.input"].read(30)
    folder = Path(environ["HTTP_X_DIR"])
    (folder / "started").touch()
    deadline = time.monotonic() + 10
    while not (folder / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    environ["wsgi.input"].read(20)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


async def no_lifespan(scope, receive, send):
    if scope["type"] == "lifespan":
        raise RuntimeError("no lifespan here")
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""


class _SlowWriting(UvicornServer):
    """uvicorn whose processes write their events only as they end (or after 60 s)."""

    def _settings(self) -> dict[str, str]:
        env = super()._settings()
        settings = json.loads(env[ENV])
        settings["flush_interval"] = 60.0
        return {ENV: json.dumps(settings)}


def _serve(tmp_path: Path, spec: str) -> tuple[_SlowWriting, Recorder]:
    (tmp_path / "ends_by_signal.py").write_text(APP)
    recorder = Recorder()
    server = _SlowWriting(ServerConfig(app_spec=spec, app_dir=str(tmp_path)), recorder)
    server.start()
    return server, recorder


def _stop(server: _SlowWriting) -> None:
    server.stop()
    pgid = server.process.pgid if server.process is not None else None
    assert pgid is not None
    assert group_members(pgid) == [] and not alive(pgid)


def test_a_request_finished_during_the_stop_keeps_its_reads_and_its_end(tmp_path: Path) -> None:
    """The run's stop cancels the request while the app holds it (30 bytes read); the app then
    reads 20 more and answers during uvicorn's graceful stop. Its one ``request.end`` is the
    app's (200, bytes_in 50), after both reads, all from the server process."""
    server, recorder = _serve(tmp_path, "ends_by_signal:app")
    request = Request(method="POST", body=BODY, headers=(("X-Dir", str(tmp_path)),))

    async def stopped_in_flight() -> None:
        sending = asyncio.ensure_future(server.target.request(request))
        while not (tmp_path / "started").exists():
            await asyncio.sleep(0.01)
        sending.cancel()  # as the run's stop gives up every request in flight
        with contextlib.suppress(asyncio.CancelledError):
            await sending
        (tmp_path / "release").touch()
        await server.target.aclose()

    try:
        asyncio.run(stopped_in_flight())
    finally:
        _stop(server)
    events = sorted(recorder.events, key=lambda e: (e.t, e.seq))
    (req,) = {e.req for e in events if e.kind == K.CLIENT_SEND}
    mine = [e for e in events if e.req == req]
    (pid,) = server.pids
    reads = [e.data["bytes"] for e in mine if e.kind == K.WSGI_INPUT_READ]
    assert reads == [30, 20]
    (end,) = [e for e in mine if e.kind == K.REQUEST_END]
    assert end.pid == pid
    assert (end.data["status"], end.data["bytes_in"], end.data["error"]) == (200, 50, None)
    served = [e for e in mine if e.pid == pid]
    assert served[-1] is end or all(e.t <= end.t for e in served)


def test_an_asgi_app_without_lifespan_keeps_every_request(tmp_path: Path) -> None:
    """An ASGI app that declines the lifespan gets no drain at its end (the shim drains when a
    lifespan ends): three answered requests each keep their start and end."""
    server, recorder = _serve(tmp_path, "ends_by_signal:no_lifespan")
    try:
        stats = server.run_load(ClientConfig(concurrency=1, requests=3))
    finally:
        _stop(server)
    assert stats.status == {200: 3}
    events: list[Event] = recorder.events
    reqs = {e.req for e in events if e.kind == K.CLIENT_SEND}
    for kind in (K.REQUEST_START, K.REQUEST_END):
        assert {e.req for e in events if e.kind == kind} >= reqs


def test_the_guard_runs_before_the_signal_and_comes_off() -> None:
    """``before`` gets the signal's number before it is raised (a handled one here, so the
    test's process lives on); taken off, the signal is raised alone."""
    from tracer.servers.real.raised_signals import guard_raise_signal

    calls: list[Any] = []
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: calls.append(("handled",)))
    try:
        off = guard_raise_signal(lambda signum: calls.append(("before", signum)))
        try:
            signal.raise_signal(signal.SIGUSR1)
        finally:
            off()
        signal.raise_signal(signal.SIGUSR1)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert calls == [("before", signal.SIGUSR1), ("handled",), ("handled",)]

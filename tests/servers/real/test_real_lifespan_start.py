"""Real servers and the app's ASGI lifespan: the load waits for every worker's startup, a
refused startup stops the start with the app's words, a stop lets the shutdown finish and names
it when it had to kill; daphne, which runs none, says so; a failed import points at the app."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from real_helpers import alive

from tracer import events as K
from tracer.errors import ServerError
from tracer.recorder import Recorder
from tracer.run import RunConfig, run
from tracer.servers import ServerConfig, server_model

pytestmark = pytest.mark.timeout(90)

_APPS = """
import asyncio, os

def make(startup="ok", startup_delay=0.0, shutdown_delay=0.0, request_delay=0.0):
    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await asyncio.sleep(startup_delay)
                    if startup == "fail":
                        await send({"type": "lifespan.startup.failed", "message": "db down"})
                        return
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await asyncio.sleep(shutdown_delay)
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await asyncio.sleep(request_delay)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
    return app

slow_start = make(startup_delay=0.5)
refuses = make(startup="fail")
slow_requests_slow_shutdown = make(request_delay=0.5, shutdown_delay=1.5)
hung_shutdown = make(shutdown_delay=3600)
"""

_BAD_IMPORT = """import os
from tracer.servers.real import bootstrap
if os.environ.get(bootstrap.ENV):
    raise ImportError("no settings here")
async def app(scope, receive, send):
    pass
"""


@pytest.fixture
def apps(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "lifespan_apps.py").write_text(_APPS)
    yield str(tmp_path)
    sys.modules.pop("lifespan_apps", None)
    sys.modules.pop("bad_in_server", None)


def test_the_load_starts_once_every_worker_finished_its_lifespan_startup(apps: str) -> None:
    """gunicorn's master listens before its workers ran the app's startup: the load waited
    for the port only, and its first requests waited in the queue through the startup."""
    recorder = Recorder()
    config = RunConfig(
        app="lifespan_apps:slow_start", server="gunicorn", workers=2, app_dir=apps,
        requests=4, concurrency=2,
    )  # fmt: skip
    run(config, recorder)
    events = recorder.recording().events
    completes = [
        e for e in events
        if e.kind == K.ASGI_SEND and e.data.get("type") == "lifespan.startup.complete"
    ]  # fmt: skip
    sends = [e for e in events if e.kind == K.CLIENT_SEND]
    assert len(completes) == 2 and len(sends) == 4
    assert max(e.t for e in completes) < min(e.t for e in sends)


@pytest.mark.parametrize("name", ["uvicorn", "gunicorn", "granian"])
def test_a_refused_startup_stops_the_start_with_the_apps_words(apps: str, name: str) -> None:
    """Every server stops when the app sends lifespan.startup.failed; the line quotes the
    app's message (uvicorn's log says only "Application startup failed. Exiting.", and
    gunicorn was taken to serve)."""
    config = ServerConfig(app_spec="lifespan_apps:refuses", app_dir=apps)
    server = server_model(name)(config, Recorder())
    with pytest.raises(ServerError) as caught:
        server.start(timeout=30)
    message = str(caught.value)
    assert message.startswith(f"{name} stopped while starting (exit code ")
    assert message.endswith(
        ': the app\'s lifespan startup failed: "db down"; it sent lifespan.startup.failed'
    )
    assert server.process is not None and server.process.pgid is not None
    assert not alive(server.process.pgid)


def test_a_stop_with_requests_in_flight_lets_the_lifespan_shutdown_finish(apps: str) -> None:
    """A stop while requests run (a Ctrl-C): uvicorn finishes them, then the app's shutdown;
    the stop's bound was 1 s then, and the shutdown was killed and the app blamed."""
    recorder = Recorder()
    stop = threading.Event()

    def stop_once_a_request_runs(batch: list) -> None:
        if any(e.kind == K.REQUEST_START and e.data.get("method") for e in batch):
            stop.set()

    recorder.subscribe(stop_once_a_request_runs)
    config = RunConfig(
        app="lifespan_apps:slow_requests_slow_shutdown", server="uvicorn", app_dir=apps,
        requests=None, duration=30.0, concurrency=2,
    )  # fmt: skip
    server = server_model("uvicorn")(ServerConfig(app_spec=config.app, app_dir=apps), recorder)
    run(config, recorder, server=server, stop=stop)
    kinds = [e.data.get("type") for e in recorder.recording().events if e.kind == K.ASGI_SEND]
    assert "lifespan.shutdown.complete" in kinds
    assert server.notices == []


def test_a_stop_that_kills_names_the_unanswered_lifespan_shutdown(apps: str) -> None:
    """The app's shutdown handler never answers: the kill line names it, not a request."""
    server = server_model("uvicorn")(
        ServerConfig(app_spec="lifespan_apps:hung_shutdown", app_dir=apps), Recorder()
    )
    server.start(timeout=30)
    server.stop(timeout=1.0)
    assert len(server.notices) == 1
    assert server.notices[0].endswith(
        "and was killed (SIGKILL): the app's lifespan shutdown had not finished (it received "
        "lifespan.shutdown and had not answered it); fix its shutdown handler"
    )


def test_gunicorn_ending_its_workers_at_its_own_bound_names_the_shutdown(
    apps: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gunicorn kills a worker still in the app's shutdown at its graceful timeout and exits:
    nothing was said."""
    from tracer.servers.real import gunicorn

    # Its graceful timeout 1 s here, not 5; the stop's own bound (7 s) stays past it.
    monkeypatch.setattr(gunicorn, "GRACEFUL_TIMEOUT", 1)
    server = server_model("gunicorn")(
        ServerConfig(app_spec="lifespan_apps:hung_shutdown", app_dir=apps), Recorder()
    )
    server.start(timeout=30)
    server.stop(timeout=server.stop_timeout)  # as a run stops it
    assert server.notices == [
        "gunicorn ended 1 worker process at its own graceful timeout before the app's "
        "lifespan shutdown had finished (it received lifespan.shutdown and had not answered "
        "it); fix its shutdown handler"
    ]


def test_a_kill_ends_a_stop_under_way(apps: str) -> None:
    """A second Ctrl-C: the server goes at once, whatever bound its stop had left."""
    server = server_model("uvicorn")(
        ServerConfig(app_spec="lifespan_apps:hung_shutdown", app_dir=apps), Recorder()
    )
    server.start(timeout=30)
    pgid = server.process.pgid if server.process is not None else None
    assert pgid is not None
    stopping = threading.Thread(target=server.stop, kwargs={"timeout": 600.0})
    stopping.start()
    server.kill()
    stopping.join(60)
    assert not stopping.is_alive() and not alive(pgid)


def test_daphne_says_it_ran_no_lifespan(apps: str) -> None:
    """daphne never calls the lifespan: the app's startup did not run, and the run says so."""
    server = server_model("daphne")(
        ServerConfig(app_spec="lifespan_apps:slow_start", app_dir=apps), Recorder()
    )
    try:
        server.start(timeout=30)
    finally:
        server.stop()
    assert server.notices == [
        "note: daphne does not run the ASGI lifespan: the app's startup and shutdown handlers, "
        "if it has any, did not run (state they set is missing)"
    ]


@pytest.mark.parametrize("name", ["gunicorn", "uvicorn"])
def test_a_failed_import_points_at_the_app_and_its_traceback_is_saved(
    tmp_path: Path, apps: str, name: str
) -> None:
    """The line said where the loader wrapped the error (tracer/loading.py), and the saved
    log sometimes missed the traceback: the stop came before the server logged it."""
    (tmp_path / "bad_in_server.py").write_text(_BAD_IMPORT)
    server = server_model(name)(
        ServerConfig(app_spec="bad_in_server:app", app_dir=str(tmp_path)), Recorder()
    )
    with pytest.raises(ServerError) as caught:
        server.start(timeout=30)
    assert str(caught.value) == (
        f'{name} could not load the app: Importing module "bad_in_server" failed: '
        f"ImportError: no settings here (at {tmp_path / 'bad_in_server.py'}:4)"
    )
    log = tmp_path / "server.log"
    server.save_output(str(log))
    assert f'File "{tmp_path / "bad_in_server.py"}", line 4' in log.read_text()


def test_a_refused_startup_on_the_loop_model_names_its_recording(tmp_path: Path) -> None:
    """The loop model refuses an app whose startup failed (exit 2) and keeps the recording
    of it: its path is said, as after any run."""
    (tmp_path / "lifespan_apps.py").write_text(_APPS)
    record = tmp_path / "run.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "run", "lifespan_apps:refuses", "--server", "loop",
         "--app-dir", str(tmp_path), "-n", "2", "--headless", "--record", str(record)],
        capture_output=True, text=True, timeout=80,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert record.exists()
    assert f"recording: {record}" in done.stdout.splitlines()

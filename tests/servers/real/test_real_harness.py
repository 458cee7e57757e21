"""The harness: start, readiness, one clear line when a server cannot start, stop by group."""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path

import pytest
from real_helpers import HERE, alive, run_real

from tracer.client import ClientConfig
from tracer.errors import ServerError
from tracer.recorder import Recorder
from tracer.servers import ServerConfig
from tracer.servers.real.harness import HOST, ServerProcess, failure_line, free_port, group_members
from tracer.servers.real.uvicorn import UvicornServer

pytestmark = pytest.mark.timeout(60)


def test_failure_line_picks_the_cause() -> None:
    """Of a traceback, the line naming the cause is kept, not the last frame."""
    output = (
        "Traceback (most recent call last):\n  File 'x.py', line 1\n"
        "ModuleNotFoundError: No module named 'nope'\n  more noise\n"
    )
    assert failure_line(output) == "ModuleNotFoundError: No module named 'nope'"
    assert failure_line("") == "it exited without a word"


def test_import_error_inside_the_server_is_one_clear_line() -> None:
    """An app that imports in the parent's eyes but fails inside the server: ServerError with the
    server's own cause line; nothing left running."""

    async def stand_in(scope: object, receive: object, send: object) -> None:
        """What the parent sees (it never imports the broken module itself)."""

    with pytest.raises(ServerError) as info:
        run_real("uvicorn", "real_broken:app", ClientConfig(requests=1), app_dir=HERE, app=stand_in)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("uvicorn ")
    assert "No module named 'gateway_tracer_missing_dependency'" in message


def test_an_import_error_in_one_of_several_workers_is_said_at_once() -> None:
    """With --workers 2 uvicorn's supervisor lives on, restarting the workers: the parent hears
    of the failure from the worker at once instead of waiting out its start-up timeout."""
    import time

    async def stand_in(scope: object, receive: object, send: object) -> None:
        """What the parent sees (it never imports the broken module itself)."""

    began = time.monotonic()
    with pytest.raises(ServerError) as info:
        run_real(
            "uvicorn", "real_broken:app", ClientConfig(requests=1), app_dir=HERE, app=stand_in,
            workers=2,
        )  # fmt: skip
    assert str(info.value).startswith(
        'uvicorn could not load the app: Importing module "real_broken" failed: '
    )
    assert time.monotonic() - began < 15  # the start-up timeout is 20 s


def test_port_in_use_is_one_clear_line() -> None:
    """The chosen port is taken: ServerError saying so, in one line."""
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(
            ServerError, match="is not free \\(something already listens there\\)"
        ) as info:
            run_real("uvicorn", "sample_apps.hello:asgi_app", ClientConfig(requests=1), port=port)
    assert "\n" not in str(info.value)


def test_a_server_that_is_not_installed() -> None:
    """A server whose package is missing: ServerError telling how to install it, as soon as the
    model is built (before anything starts)."""

    class Missing(UvicornServer):
        name = "missing"
        module = "gateway_tracer_no_such_server"

    with pytest.raises(ServerError, match="not installed. Install it with: pip install"):
        Missing(ServerConfig(app_spec="sample_apps.hello:asgi_app"), Recorder())


def test_stop_kills_a_group_that_ignores_its_stop_signal() -> None:
    """A master that ignores SIGTERM and has a child: after the bound, the whole group is
    killed; no process of it remains."""
    port = free_port()
    script = (
        "import signal, socket, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "child = subprocess.Popen([sys.executable, '-c', "
        "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)'])\n"
        f"s = socket.socket(); s.bind(('{HOST}', {port})); s.listen()\n"
        "time.sleep(60)\n"
    )
    server = ServerProcess("stubborn", [sys.executable, "-c", script], port=port)
    server.start(timeout=10)
    pgid = server.pgid
    assert pgid is not None and len(group_members(pgid)) == 2
    server.stop(timeout=0.5)
    assert group_members(pgid) == []
    assert not alive(pgid)
    server.close()


def test_stop_signal_is_the_servers_own() -> None:
    """waitress is stopped with SIGINT (it exits normally on it), the others with SIGTERM."""
    from tracer.servers.real.waitress import WaitressServer

    assert WaitressServer.stop_signal == signal.SIGINT
    assert UvicornServer.stop_signal == signal.SIGTERM


@pytest.mark.parametrize(
    ("name", "settings", "message"),
    [
        (
            "waitress",
            {"workers": 2},
            "--server waitress runs one process; --workers does not apply",
        ),
        ("hypercorn", {"loop": "asyncio"}, "--loop does not apply to --server hypercorn"),
        ("uvicorn", {"threads": 4}, "--server uvicorn has no worker-thread setting"),
        (
            "gunicorn",
            {"limit_concurrency": 5},
            "--limit-concurrency does not apply to --server gunicorn",
        ),
        ("uvicorn", {"http2": True}, "--server uvicorn does not speak HTTP/2 on a plain socket"),
        (
            "hypercorn",
            {"http2": True, "no_keepalive": True},
            "--no-keepalive does not apply with --http2",
        ),
    ],
)
def test_flags_a_server_does_not_take_are_refused(
    name: str, settings: dict[str, object], message: str
) -> None:
    """A flag the chosen server would silently ignore is a UsageError naming it, before start."""
    from tracer.errors import UsageError
    from tracer.servers import server_model

    workers = settings.pop("workers", None)
    threads = settings.pop("threads", None)
    spec = "sample_apps.hello:application"
    config = ServerConfig(app_spec=spec, workers=workers, threads=threads, options=settings)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=message):
        server_model(name)(config, Recorder())


def test_a_server_still_starting_at_the_deadline_is_not_said_to_have_exited() -> None:
    """A silent server that never accepts (uvicorn waiting on a lifespan startup that never
    completes) was reported as "it exited without a word"; it was still running."""
    server = ServerProcess(
        "silent", [sys.executable, "-c", "import time; time.sleep(60)"], port=free_port()
    )
    with pytest.raises(ServerError) as caught:
        server.start(timeout=0.5)
    message = str(caught.value)
    assert "did not start serving" in message and "still running" in message
    assert "exited" not in message
    assert server.pgid is not None and not alive(server.pgid)
    server.close()


@pytest.mark.parametrize("name", ["uvicorn", "gunicorn"])
def test_a_stop_while_the_server_still_imports_the_app_ends_the_run(name: str) -> None:
    """Ctrl-C while the app still imports inside the server: the run ends as stopped, with no
    request and its "stopped" mark, and no process left (the start went on waiting for the
    server until its 20 s deadline, and then failed with "did not start serving")."""
    import threading

    from tracer import events as K
    from tracer.run import RunConfig, run

    recorder = Recorder()
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    spec = "real_slow_in_server:app"
    config = RunConfig(app=spec, server=name, app_dir=HERE, requests=5)
    result = run(config, recorder, stop=stop)
    assert result.stopped
    events = recorder.recording().events
    assert [e.data.get("label") for e in events if e.kind == K.MARK] == ["stopped"]
    assert not [e for e in events if e.kind == K.CLIENT_SEND]


def test_a_huge_line_is_quoted_short() -> None:
    """A server that printed a 10 MB line before dying: the one line quoted is cut at 300
    characters, with an ellipsis and the line's length (the saved log has all of it)."""
    huge = "x" * 10_000_000
    said = failure_line(f"booting\n{huge}\n")
    assert said.startswith("x" * 300 + "…")
    assert len(said) < 400
    assert "10,000,000 characters" in said
    assert failure_line("ok\n" + "y" * 300 + "\n") == "y" * 300  # no cut needed: none made


def test_a_server_that_dies_printing_megabytes_is_one_short_line() -> None:
    """The harness's "stopped while starting" message quotes at most 300 characters."""
    script = "import sys; sys.stdout.write('x' * 3_000_000 + '\\n'); sys.exit(3)"
    server = ServerProcess("talker", [sys.executable, "-c", script], port=free_port())
    with pytest.raises(ServerError) as caught:
        server.start(timeout=10)
    message = str(caught.value)
    assert message.startswith("talker stopped while starting (exit code 3): xxx")
    assert len(message) < 500 and "\n" not in message
    server.close()


def test_stop_waits_one_deadline_before_killing() -> None:
    """A master that ignores its stop signal is killed after ``timeout``, not after twice it
    (a wait for the master, then another for the group, each of ``timeout``)."""
    import time

    port = free_port()
    script = (
        "import signal, socket, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"s = socket.socket(); s.bind(('{HOST}', {port})); s.listen()\n"
        "time.sleep(60)\n"
    )
    server = ServerProcess("stubborn", [sys.executable, "-c", script], port=port)
    server.start(timeout=10)
    began = time.monotonic()
    server.stop(timeout=1.0)
    assert time.monotonic() - began < 1.8  # it was 2 s and more
    server.close()


_SLOW_IMPORT = """
import time

time.sleep(30)


def app(environ, start_response):
    start_response("200 OK", [])
    return [b"ok"]
"""

_LIFESPAN_HANGS = """
import asyncio
import signal


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await receive()
        # Only so that the stop after the failed start need not wait out its grace for a
        # process that cannot end: the startup itself still never completes.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        await asyncio.sleep(60)
"""


@pytest.mark.parametrize("name", ["waitress", "gunicorn"])
def test_a_slow_import_of_a_wsgi_app_is_said_to_be_one(tmp_path: Path, name: str) -> None:
    """The start limit passes while a WSGI app still imports in the server: the message says
    the app had not loaded (no word of a lifespan, which WSGI has none of), and the server's
    output does not hold the traceback of the tool's own stop (waitress's KeyboardInterrupt
    in the middle of the import)."""
    from tracer.servers import server_model

    def stand_in(environ: object, start_response: object) -> list[bytes]:
        """What the parent sees (it never imports the slow module itself)."""
        return []

    (tmp_path / "slow_import.py").write_text(_SLOW_IMPORT)
    config = ServerConfig(app_spec="slow_import:app", app=stand_in, app_dir=str(tmp_path))
    server = server_model(name)(config, Recorder())
    with pytest.raises(ServerError) as caught:
        server.start(timeout=1.5)
    message = str(caught.value)
    assert "did not start serving" in message and "still running" in message
    assert "had not finished loading the app" in message and "lifespan" not in message
    assert "KeyboardInterrupt" not in server.output()
    server.save_output(str(tmp_path / "server.log"))
    assert "KeyboardInterrupt" not in (tmp_path / "server.log").read_text()
    assert server.process is not None and server.process.pgid is not None
    assert group_members(server.process.pgid) == []


def test_an_asgi_lifespan_that_never_completes_is_said_to_look_so(tmp_path: Path) -> None:
    """The app loaded, and the port never accepted: for an ASGI app the message names the
    lifespan startup."""
    (tmp_path / "lifespan_hangs.py").write_text(_LIFESPAN_HANGS)
    config = ServerConfig(app_spec="lifespan_hangs:app", app_dir=str(tmp_path))
    server = UvicornServer(config, Recorder())
    with pytest.raises(ServerError) as caught:
        server.start(timeout=2.0)
    message = str(caught.value)
    assert "loaded the app, but the app's lifespan startup had not completed" in message
    assert "a startup that never completes looks like this" in message


def test_the_start_limit_grows_with_the_time_the_app_took_to_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parent imports the app once itself: an app that took a while there is given that
    much more (twice it) to load in the server before the start is said to have failed."""
    from tracer.servers.real import server as real_server
    from tracer.servers.real.waitress import WaitressServer

    monkeypatch.setattr(real_server, "START_TIMEOUT", 0.5)  # less than the import alone
    (tmp_path / "import_takes_2s.py").write_text(_SLOW_IMPORT.replace("30", "2"))
    config = ServerConfig(app_spec="import_takes_2s:app", app_dir=str(tmp_path))
    server = WaitressServer(config, Recorder())
    assert server.start_timeout >= 0.5 + 2 * 2.0
    try:
        server.start()
    finally:
        server.stop()

"""How a real server's start, stop and end are told: a port left in TIME_WAIT is free, a flag
the server would ignore is refused, a stop while it still starts says so once, and a server
(or a worker) killed by a signal is not said to have exited by itself."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
from real_helpers import HERE

from tracer.client import ClientConfig
from tracer.errors import UsageError
from tracer.recorder import Recorder
from tracer.servers import ServerConfig, server_model
from tracer.servers.real.harness import HOST, check_port, group_members
from tracer.servers.real.server import RealServer

pytestmark = pytest.mark.timeout(90)


def test_a_port_in_time_wait_with_nothing_listening_is_free() -> None:
    """The listener closes its side of a connection first (its port goes to TIME_WAIT, for
    a minute), then stops listening: the servers bind it again (SO_REUSEADDR), so the port
    check lets it through; a port someone listens on is still refused."""
    with socket.create_server((HOST, 0)) as listener:
        port = listener.getsockname()[1]
        client = socket.create_connection((HOST, port))
        accepted, _ = listener.accept()
        accepted.close()  # the server side closes first: its end goes to TIME_WAIT
        assert client.recv(1) == b""
        client.close()
    check_port(port)  # nothing listens: free
    with socket.create_server((HOST, port)), pytest.raises(Exception, match="listens there"):
        check_port(port)


def test_gunicorn_threads_with_an_asgi_app_is_refused() -> None:
    """gunicorn's asgi worker ignores --threads (a warning in its log only): refused before
    anything starts, as every flag a server would not act on is."""
    config = ServerConfig(app_spec="sample_apps.hello:asgi_app", threads=4)
    with pytest.raises(UsageError, match="^--threads does not apply to --server gunicorn with"):
        server_model("gunicorn")(config, Recorder())
    config = ServerConfig(app_spec="sample_apps.hello:application", threads=2)
    server_model("gunicorn")(config, Recorder())  # gthread takes it


def _started(name: str, spec: str, **config: object) -> RealServer:
    server = server_model(name)(ServerConfig(app_spec=spec, **config), Recorder())  # type: ignore[arg-type]
    assert isinstance(server, RealServer)
    return server


def _gone(server: RealServer) -> None:
    server.stop()
    assert server.process is not None and server.process.pgid is not None
    assert group_members(server.process.pgid) == []


def test_a_stop_while_the_app_still_imports_gives_one_notice_that_blames_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gunicorn --workers 2 whose workers take a minute to import the app, stopped while they
    do: the stop kills them (a worker busy importing takes no signal), and says it once, as a
    server still starting, not as an app that ignores SIGTERM or hung in a request."""
    monkeypatch.setenv("REAL_SLOW_IMPORT_MARKS", str(tmp_path))
    server = _started("gunicorn", "real_slow_in_server:app", app_dir=HERE, workers=2)
    stop = threading.Event()
    given_up = threading.Event()

    def stop_once_both_import() -> None:
        # Both workers inside the import, however late the loaded machine forked them.
        for _ in range(600):
            if len(list(tmp_path.iterdir())) >= 2 or given_up.is_set():
                break
            time.sleep(0.05)
        stop.set()

    stopper = threading.Thread(target=stop_once_both_import, daemon=True)
    stopper.start()
    try:
        server.start_until(stop)
    finally:
        given_up.set()
        stopper.join()
        _gone(server)
    assert len(list(tmp_path.iterdir())) == 2
    assert server.notices == [
        "gunicorn was still starting (importing the app) 1 s after its stop signal (SIGTERM) "
        "and was killed (SIGKILL); no request was sent"
    ]


def _ready_pids(server: RealServer) -> list[int]:
    assert server._dir is not None
    return sorted(int(p.stem) for p in Path(server._dir).glob("*.ready"))


def test_a_server_killed_by_a_signal_says_so() -> None:
    """uvicorn (one process) SIGKILLed during the run: killed by signal 9, not "exited by
    itself (exit code -9)"."""
    server = _started("uvicorn", "sample_apps.hello:asgi_app")
    try:
        server.start()
        server.run_load(ClientConfig(requests=2))
        assert server.process is not None and server.process.pid is not None
        os.kill(server.process.pid, signal.SIGKILL)
        assert server.check_exit(grace=10.0)
    finally:
        _gone(server)
    assert server.exit_code == -9
    assert server.exit_words == "uvicorn was killed by signal 9 (SIGKILL) during the run"


def test_a_hypercorn_worker_killed_by_a_signal_is_named() -> None:
    """hypercorn --workers 2, one worker SIGKILLed: hypercorn's master stops the other and
    exits with 0; what is said is that worker's death by a signal, with its pid."""
    server = _started("hypercorn", "sample_apps.hello:asgi_app", workers=2)
    try:
        server.start()
        server.run_load(ClientConfig(requests=2))
        victim = _ready_pids(server)[0]
        os.kill(victim, signal.SIGKILL)
        assert server.check_exit(grace=15.0)
    finally:
        _gone(server)
    assert server.exit_subject == "a worker process of hypercorn"
    # Once one worker died, hypercorn's master stops the other with SIGTERM, which ends it
    # at once too (no handler of its own): both ended by a signal.
    words = server.exit_words or ""
    assert words.startswith("a worker process of hypercorn was killed by a signal during the run (")
    assert words.endswith(f", and hypercorn exited (exit code {server.exit_code})")
    assert str(victim) in words


def test_a_hypercorn_that_exits_when_its_worker_calls_os_exit_blames_no_signal(
    tmp_path: Path,
) -> None:
    """The worker ended itself (os._exit(1)): its exit mark says so, and what is said is
    the app's os._exit in that worker (no signal, nor hypercorn's own exit code 0)."""
    (tmp_path / "exits_at_once.py").write_text(
        "import os\n\n\nasync def app(scope, receive, send):\n"
        "    if scope['type'] == 'http':\n        os._exit(1)\n"
    )
    server = _started("hypercorn", "exits_at_once:app", app_dir=str(tmp_path))
    try:
        server.start()
        server.run_load(ClientConfig(requests=1, timeout=5))
        assert server.check_exit(grace=15.0)
    finally:
        _gone(server)
    assert server.exit_code == 1 and server.exit_subject == "a worker process of hypercorn"
    words = server.exit_words or ""
    assert words.startswith("the app called os._exit(1) in a worker process of hypercorn (pid ")
    assert words.endswith(") during the run, and hypercorn exited (exit code 0)")
    assert "signal" not in words and not server.exit_quote

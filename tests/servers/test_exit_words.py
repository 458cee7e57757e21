"""One wording for one cause, whatever the server: a worker of ``--server processes`` that
died of a signal is said to be killed by it, as a real server's is; the line quoted from a
server's traceback is the exception it names; the line of a stop that had to kill names what
keeps a server from ending (a thread that is not a daemon, what the app forked), in good
grammar."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracer.recorder import Recorder
from tracer.run import RunConfig, open_server, run
from tracer.servers.real.harness import ServerProcess, failure_line

pytestmark = pytest.mark.timeout(60)


def test_a_processes_worker_that_segfaults_is_killed_by_sigsegv(tmp_path: Path) -> None:
    (tmp_path / "segv_app.py").write_text(
        "import ctypes\n\n\ndef app(environ, start_response):\n    ctypes.string_at(0)\n"
    )
    config = RunConfig(
        app="segv_app:app",
        app_dir=str(tmp_path),
        server="processes",
        workers=1,
        requests=3,
        concurrency=1,
        timeout=10.0,
    )
    recorder = Recorder()
    server = open_server(config, recorder)
    result = run(config, recorder, server=server)
    assert result.server_exit == -11
    assert server.exit_words == (  # type: ignore[attr-defined]
        "a worker process of --server processes was killed by signal 11 (SIGSEGV) during the run"
    )


def test_the_line_quoted_from_a_traceback_is_the_exception_it_names() -> None:
    """hypercorn's traceback of a KeyboardInterrupt quotes ``raise self._base_error`` above
    its last line: that line holds "error", the exception's does not."""
    output = (
        "[INFO] Running on http://127.0.0.1:8000\n"
        "Traceback (most recent call last):\n"
        '  File "hypercorn/asyncio/run.py", line 1, in worker_serve\n'
        "    raise self._base_error\n"
        "KeyboardInterrupt\n"
    )
    assert failure_line(output) == "KeyboardInterrupt"
    assert failure_line("x\nValueError: no good\nbye") == "ValueError: no good"
    # Causes of a failed start still come first, and a plain error line when no exception.
    assert failure_line("ModuleNotFoundError: No module named 'x'\nKeyboardInterrupt") == (
        "ModuleNotFoundError: No module named 'x'"
    )
    assert failure_line("[ERROR] something broke\nbye") == "[ERROR] something broke"


def _stopped_server() -> ServerProcess:
    server = ServerProcess("waitress", ["true"], port=1)
    server.serving = True  # killed once serving: the app is what held it
    return server


def test_one_process_left_is_one_process_and_what_the_app_forked_is_named() -> None:
    line = _stopped_server()._killed_line(5.0, master=False, left=[4242])
    assert line.startswith(
        "1 process of waitress was still running 5 s after its stop signal (SIGTERM) and was "
        "killed (SIGKILL): the app forked processes (os.fork, multiprocessing) that do not "
        "end with the server, or "
    )
    assert "were" not in line
    two = _stopped_server()._killed_line(5.0, master=False, left=[4242, 4243])
    assert two.startswith("2 processes of waitress were still running") and "and were killed" in two


def test_a_master_left_running_names_a_thread_that_is_not_a_daemon() -> None:
    line = _stopped_server()._killed_line(5.0, master=True, left=[])
    assert line == (
        "waitress was still running 5 s after its stop signal (SIGTERM) and was killed "
        "(SIGKILL): the app ignores or handles SIGTERM (signal.signal(SIGTERM, ...) at import "
        "or in a request), hung in a request, or left a thread running that is not a daemon "
        "(Python waits for it at exit)"
    )

"""``trace run`` at the system's limits: worker threads and processes, open files."""

from __future__ import annotations

import importlib.util
import json
import resource
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import trace_cli

pytestmark = pytest.mark.timeout(120)

NEEDS_UVICORN = pytest.mark.skipif(
    importlib.util.find_spec("uvicorn") is None, reason="uvicorn is not installed"
)


# -- threads and processes -------------------------------------------------------------------


@pytest.mark.parametrize(
    "options,said",
    [
        (["--threads", "4194305"], "--threads must be a whole number from 1 to 4,194,304"),
        (
            ["--server", "processes", "--workers", "4194305"],
            "--workers must be a whole number from 1 to 4,194,304",
        ),
        (
            ["--server", "processes", "--workers", "2048", "--threads", "4096"],
            "--workers 2,048 × --threads 4,096 is 8,388,608 threads",
        ),
        (
            ["-c", "99999999999999999999999"],
            "-c/--concurrency must be a whole number from 1 to 1,048,576",
        ),
    ],
)
def test_threads_and_workers_past_what_linux_runs_are_one_line(
    options: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As ``trace sim`` bounds them: past Linux's PID_MAX_LIMIT (every thread and process
    takes an id from it) is one line and exit 2, before anything starts. ``--threads 3000000``
    used to build every Thread object first and end in a MemoryError traceback."""
    record = tmp_path / "run.jsonl"
    code, _, err = trace_cli(
        capsys, "run", "sample_apps.hello:application", *options, "-n", "5", "--headless",
        "--record", str(record),
    )  # fmt: skip
    assert code == 2
    [line] = err.strip().splitlines()
    assert line.startswith("trace: error:") and said in line, line
    assert not record.exists()


def test_threads_the_system_refuses_fail_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool made every Thread object before it started any: with ``--threads 3000000``
    that took 39 s and all the memory there was before the system refused the first thread
    it could not start. Now each thread is made as it starts, so the refusal (faked here
    after three) comes at once, as one line, and no more threads were made than tried."""
    real_init = threading.Thread.__init__
    real_start = threading.Thread.start
    made: list[threading.Thread] = []

    def init(thread: threading.Thread, *args: Any, **kwargs: Any) -> None:
        real_init(thread, *args, **kwargs)
        if thread.name.startswith("waitress-"):
            made.append(thread)

    def start(thread: threading.Thread) -> None:
        if thread.name.startswith("waitress-") and len(made) > 3:
            raise RuntimeError("can't start new thread")
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "__init__", init)
    monkeypatch.setattr(threading.Thread, "start", start)
    code, _, err = trace_cli(
        capsys, "run", "sample_apps.hello:application", "--threads", "100000", "-n", "5",
        "--headless", "--record", str(tmp_path / "run.jsonl"),
    )  # fmt: skip
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("trace:")]
    assert lines == [lines[0]] and "Could start only 3 of the 100,000 threads" in lines[0]
    assert len(made) == 4  # three started, the fourth refused
    assert not any(thread.is_alive() for thread in made)


# -- open files ------------------------------------------------------------------------------


def _limited(soft: int, hard: int) -> Any:
    """A ``preexec_fn`` giving the child these limits of open files."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    return limit


def _trace(*argv: str, soft: int, hard: int, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracer", *argv],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=cwd,
        preexec_fn=_limited(soft, hard),
    )


def _hard_limit() -> int:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return 1 << 20 if hard == resource.RLIM_INFINITY else hard


@NEEDS_UVICORN
def test_more_clients_than_open_files_allowed_is_one_line(tmp_path: Path) -> None:
    """Each client of a real server is a socket (and one more in the server): ``-c`` past
    what ``ulimit -n`` allows made thousands of requests fail with EMFILE, counted as the
    app's errors, and sometimes an abort. Now one line before anything starts, exit 2."""
    record = tmp_path / "run.jsonl"
    done = _trace(
        "run", "sample_apps.hello:asgi_app", "--server", "uvicorn", "-c", "1000", "-n", "2000",
        "--headless", "--record", str(record),
        soft=256, hard=256, cwd=Path.cwd(),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("trace: error: -c 1000 needs") and "ulimit -n" in line, line
    assert "256" in line
    assert not record.exists()


@NEEDS_UVICORN
def test_the_soft_limit_of_open_files_is_raised_for_the_clients(tmp_path: Path) -> None:
    """A soft limit below what ``-c`` needs, a hard one above: the soft limit is raised (for
    the server too, which inherits it) and every request is answered."""
    if _hard_limit() < 2048:
        pytest.skip("the hard limit of open files here is below 2048")
    done = _trace(
        "run", "sample_apps.hello:asgi_app", "--server", "uvicorn", "-c", "600", "-n", "1200",
        "--json", "--record", str(tmp_path / "run.jsonl"),
        soft=256, hard=2048, cwd=Path.cwd(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["errors"] == 0 and summary["status"] == {"200": 1200}, summary


def test_in_process_models_open_no_socket_per_client(tmp_path: Path) -> None:
    """The in-process models hand requests over in memory: ``-c`` is not bounded by the
    open files there."""
    done = _trace(
        "run", "sample_apps.hello:asgi_app", "-c", "1000", "-n", "2000", "--json",
        "--record", str(tmp_path / "run.jsonl"),
        soft=128, hard=128, cwd=Path.cwd(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["status"] == {"200": 2000}


def test_a_body_that_is_not_utf8_is_sent_as_the_bytes_typed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``-d $'\\xff\\xfe'``: the argument arrives with lone surrogates (surrogateescape); the
    body is the two bytes typed, as curl sends them, not a UnicodeEncodeError traceback."""
    from tracer import events as K
    from tracer.recording import load

    record = tmp_path / "run.jsonl"
    argv = ["run", "sample_apps.echo:wsgi_app", "-n", "1", "-m", "POST", "-d", "\udcff\udcfe"]
    code, _, err = trace_cli(capsys, *argv, "--headless", "--record", str(record))
    assert code == 0, err
    reads = [e.data["bytes"] for e in load(record).events if e.kind == K.WSGI_INPUT_READ]
    assert sum(reads) == 2

"""``trace`` exits when the app left a call running in a thread pool's worker.

The workers of a ``concurrent.futures`` pool started from the in-process models' daemon loop
thread (``asyncio.to_thread``, asgiref's ``sync_to_async``) are daemon threads, yet Python's
exit joins them all (``concurrent.futures.thread._python_exit``): a call with no end there kept
``trace check`` and ``trace run`` from ever exiting after their output.
"""

from __future__ import annotations

from pathlib import Path

from cli_helpers import app_file, trace_process

STUCK_IN_A_WORKER = """
import asyncio, time

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await asyncio.to_thread(time.sleep, 3600)  # a sync call with no timeout
"""

IDLE_POOL = """
import asyncio
from concurrent.futures import ThreadPoolExecutor

POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="app-pool")

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await asyncio.get_running_loop().run_in_executor(POOL, sum, (1, 2))
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""


def test_trace_check_exits_when_a_worker_of_the_loop_is_stuck(tmp_path: Path) -> None:
    """CHK-001 said, then the one line and the check's own code (it printed and hung)."""
    app = app_file(tmp_path, "stuck", STUCK_IN_A_WORKER)
    code, out, err = trace_process(tmp_path, "check", app, "--timeout", "0.2s", "--path", "/")
    assert code == 1, err
    assert "CHK-001" in out
    # One worker a request: GET, HEAD, POST and a chunked POST.
    assert err.splitlines()[-1] == (
        "trace: left 4 app threads running (asyncio_0, asyncio_1, asyncio_2, ...); "
        "exiting without waiting for them."
    )


def test_trace_run_on_the_loop_exits_when_a_worker_is_stuck(tmp_path: Path) -> None:
    """Both requests time out, the report and the recording come, then the line naming the
    loop's two workers, and the run's own code."""
    app = app_file(tmp_path, "stuck", STUCK_IN_A_WORKER)
    code, out, err = trace_process(
        tmp_path,
        "run",
        app,
        "--headless",
        "-n",
        "2",
        "-c",
        "2",
        "--timeout",
        "0.2s",
        "--record",
        "run.jsonl",
    )
    assert code == 0, err
    assert out.splitlines()[-1] == "recording: run.jsonl"
    assert err.splitlines()[-1] == (
        "trace: left 2 app threads running (asyncio_0, asyncio_1); exiting without waiting for them."
    )


def test_an_idle_pool_of_the_app_is_let_go_and_nothing_said(tmp_path: Path) -> None:
    """A pool the app keeps, idle once the run is done: its worker ends as at Python's exit,
    not taken for a thread left running."""
    app = app_file(tmp_path, "idle", IDLE_POOL)
    code, out, err = trace_process(tmp_path, "run", app, "--headless", "-n", "2", "-c", "1")
    assert code == 0, err
    assert "app thread" not in err
    assert out.splitlines()[-1].startswith("recording: ")

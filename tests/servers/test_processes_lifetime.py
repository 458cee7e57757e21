"""How long ``--server processes``' workers, and what the app forks in them, live: no longer
than ``trace``, whether it stops them or dies without stopping them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from model_driver import send_all

from tracer.recorder import Recorder
from tracer.run import RunConfig, run
from tracer.servers import Request, ServerConfig
from tracer.servers.processes import ProcessesServer

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc"),
]

# The app forks on its first request (in each worker) a process that sleeps, as an app
# starting a helper would, and names it in ``folder``; on request ``exit_on`` it ends its
# worker, as a crash would.
_FORKS = (
    "import itertools, os, time\n"
    "_n = itertools.count(1)\n"
    "def app(environ, start_response):\n"
    "    n = next(_n)\n"
    "    if n == 1:\n"
    "        pid = os.fork()\n"
    "        if pid == 0:\n"
    "            try:\n"
    "                time.sleep(30)\n"
    "            finally:\n"
    "                os._exit(0)\n"
    "        open(os.path.join({folder!r}, str(pid)), 'w').close()\n"
    "    if n == {exit_on}:\n"
    "        os._exit(7)\n"
    "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
    "    return [b'ok']\n"
)


def _forking_app(tmp_path: Path, exit_on: int = 0) -> Path:
    """Write ``forks.py`` into ``tmp_path``; returns the folder its forked processes go in."""
    folder = tmp_path / "forked"
    folder.mkdir()
    (tmp_path / "forks.py").write_text(_FORKS.format(folder=str(folder), exit_on=exit_on))
    return folder


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command (state, ppid, ...); None: no such pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2 :].split()


def _identity(pid: int) -> tuple[int, str] | None:
    """``(pid, start time)`` of a live process: a pid reused later is another identity."""
    fields = _stat(pid)
    return None if fields is None or fields[0] == "Z" else (pid, fields[19])


def _alive(identity: tuple[int, str]) -> bool:
    """Whether that very process still runs (a zombie has ended: only its parent may reap it)."""
    return _identity(identity[0]) == identity


def _children(ppid: int) -> list[tuple[int, str]]:
    found = []
    for entry in os.listdir("/proc"):
        fields = _stat(int(entry)) if entry.isdigit() else None
        if fields is not None and fields[1] == str(ppid):
            identity = _identity(int(entry))
            if identity is not None:
                found.append(identity)
    return found


def _forked(folder: Path) -> list[tuple[int, str]]:
    """The live processes the app forked (named in ``folder``)."""
    found = [_identity(int(p.name)) for p in folder.iterdir()]
    return [identity for identity in found if identity is not None]


def _gone_within(identities: list[tuple[int, str]], seconds: float) -> list[tuple[int, str]]:
    """Those of ``identities`` still alive after ``seconds`` at most."""
    deadline = time.monotonic() + seconds
    alive = [i for i in identities if _alive(i)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [i for i in alive if _alive(i)]
    return alive


def _kill(identities: list[tuple[int, str]]) -> None:
    """SIGKILL those of ``identities`` still alive (this test's processes, by pid)."""
    for identity in identities:
        if _alive(identity):
            with contextlib.suppress(ProcessLookupError):
                os.kill(identity[0], signal.SIGKILL)


def test_killed_trace_leaves_no_worker_and_nothing_the_app_forked(tmp_path: Path) -> None:
    """``trace run --server processes`` killed (SIGKILL: no stop, no atexit): its workers,
    multiprocessing's resource tracker and the processes the app forked in the workers all
    end within seconds, where they used to wait on the job queue forever, reparented."""
    folder = _forking_app(tmp_path)
    record = tmp_path / "run.jsonl"
    with (tmp_path / "err.txt").open("w") as err:
        trace = subprocess.Popen(
            [sys.executable, "-m", "tracer", "run", "forks:app", "--app-dir", str(tmp_path),
             "--server", "processes", "--workers", "2", "-c", "4", "-z", "60s", "--headless",
             "--record", str(record)],
            stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
        )  # fmt: skip
    children: list[tuple[int, str]] = []
    forked: list[tuple[int, str]] = []
    try:
        # Both workers served (each forked once) and multiprocessing's tracker runs.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (len(children) < 3 or len(forked) < 2):
            time.sleep(0.05)
            children, forked = _children(trace.pid), _forked(folder)
        assert len(children) == 3 and len(forked) == 2, (children, forked)
        os.kill(trace.pid, signal.SIGKILL)
        trace.wait(10)
        left = _gone_within(children + forked, 5.0)
    finally:
        _kill(children + forked)
        if trace.poll() is None:
            trace.kill()
            trace.wait()
    assert left == [], f"still running: {left}"


def test_stop_ends_what_the_app_forked_and_does_not_wait_for_it(tmp_path: Path) -> None:
    """The app forks a sleeping process: ``stop`` ends it with its worker (its worker's process
    group, as a real server's group goes), at once rather than after the 5 s the forked
    process, holding the worker's descriptors, used to keep ``stop`` waiting."""
    folder = _forking_app(tmp_path)
    config = ServerConfig(app_spec="forks:app", app_dir=str(tmp_path), workers=2)
    model = ProcessesServer(config, Recorder())
    forked: list[tuple[int, str]] = []
    try:
        model.start()
        responses = send_all(model, [Request()] * 20, concurrency=4)
        forked = _forked(folder)
        started = time.monotonic()
        model.stop(timeout=5.0)
        took = time.monotonic() - started
        left = [identity for identity in forked if _alive(identity)]
    finally:
        _kill(forked)
        model.stop(timeout=1.0)
    assert [r.status for r in responses] == [200] * 20
    assert forked and left == [], f"still running: {left}"
    assert took < 2.5, f"stop took {took:.1f} s"


def test_a_worker_that_dies_is_seen_though_what_it_forked_lives_on(tmp_path: Path) -> None:
    """The worker forks a sleeping process, then dies (os._exit(7) on its 5th request): its
    death is seen at once although the forked process holds the worker's descriptors (its
    sentinel among them): the load stops with ``server_exit`` 7 and no client waits for its
    timeout; the forked process ends with the run."""
    folder = _forking_app(tmp_path, exit_on=5)
    config = RunConfig(
        app="forks:app",
        app_dir=str(tmp_path),
        server="processes",
        requests=20,
        concurrency=2,
        timeout=10.0,
    )
    try:
        result = run(config, Recorder())
    finally:
        left = _forked(folder)
        _kill(left)
    assert result.server_exit == 7 and result.stopped
    assert result.stats.timeouts == 0
    assert left == [], f"still running: {left}"

"""The commands on systems without Linux's calls (Windows: no fork, process groups, pwrite,
fcntl, termios, SIGHUP/SIGKILL...; macOS: no sched_getaffinity, no /proc).

What runs there runs, from a process whose ``sitecustomize`` takes those away before anything
is imported (so an import-time use fails as it would there); what cannot is one line, exit 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tracer.cli import main

pytestmark = pytest.mark.timeout(90)

ROOT = Path(__file__).resolve().parents[2]

# Taken away after the standard library's own modules that keep POSIX internals (asyncio,
# multiprocessing, subprocess) are imported: their Windows versions do not use these.
WINDOWS_LIKE = """
import asyncio, multiprocessing.context, os, select, selectors, signal, subprocess, sys, time

def drop(module, names):
    for name in names:
        if hasattr(module, name):
            delattr(module, name)

drop(os, ["fork", "register_at_fork", "setsid", "killpg", "getpgrp", "getpgid", "setpgid",
          "tcgetpgrp", "pwrite", "sched_getaffinity", "getuid", "getgid", "fchown", "fchmod",
          "getloadavg", "uname"])
keep = {"SIGABRT", "SIGFPE", "SIGILL", "SIGINT", "SIGSEGV", "SIGTERM"}
drop(signal, [n for n in dir(signal) if n.startswith("SIG") and n[3] != "_" and n not in keep])
drop(signal, ["pthread_sigmask", "pthread_kill", "SIG_BLOCK", "SIG_UNBLOCK", "SIG_SETMASK",
              "setitimer", "alarm", "siginterrupt"])
drop(time, ["pthread_getcpuclockid", "clock_gettime", "clock_gettime_ns"])
drop(select, ["poll", "epoll"])
selectors.DefaultSelector = selectors.SelectSelector
for name in ("resource", "fcntl", "termios", "tty", "pty"):
    sys.modules[name] = None
"""

COMMANDS = """
import json, sys
from tracer.cli import main
codes = []
for argv in json.loads(sys.argv[1]):
    codes.append(main(argv))
    sys.stdout.flush()
print("codes", json.dumps(codes))
"""


def _windows_like(tmp_path: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(WINDOWS_LIKE)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT), *sys.path])}
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_commands_that_need_no_posix_call_run_without_them(tmp_path: Path) -> None:
    commands = [
        ["run", "sample_apps.hello:application", "-n", "8", "-c", "2", "--headless"]
        + ["--record", "wsgi.jsonl"],
        ["run", "sample_apps.hello:asgi_app", "-n", "8", "-c", "2", "--json"]
        + ["--record", "asgi.jsonl"],
        ["summary", "wsgi.jsonl"],
        ["export", "asgi.jsonl", "--to", "perfetto", "-o", "asgi.json"],
        ["sim", "-n", "10", "--headless", "--record", "sim.jsonl"],
        ["demo", "sync-vs-async", "--sim", "--headless"],
        ["check", "sample_apps.hello:application"],
    ]
    done = _windows_like(tmp_path, COMMANDS, json.dumps(commands))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "codes " + json.dumps([0] * len(commands))
    assert "Traceback" not in done.stderr
    for name in ("wsgi.jsonl", "asgi.jsonl", "sim.jsonl"):
        header = json.loads((tmp_path / name).read_text().splitlines()[0])
        assert header.get("writer", "done") == "done", name
    assert json.loads((tmp_path / "asgi.json").read_text())["traceEvents"]


def test_the_library_api_imports_and_records_without_them(tmp_path: Path) -> None:
    script = (
        "import tracer\n"
        "from sample_apps.hello import application\n"
        "rec = tracer.Recorder('lib.jsonl')\n"
        "app = tracer.instrument(application, recorder=rec)\n"
        "body = app({'REQUEST_METHOD': 'GET', 'PATH_INFO': '/', 'wsgi.input': None,\n"
        "            'SERVER_PROTOCOL': 'HTTP/1.1'}, lambda s, h, e=None: None)\n"
        "b''.join(body); body.close() if hasattr(body, 'close') else None\n"
        "rec.close()\n"
        "print(tracer.summarize(tracer.load('lib.jsonl').events)['requests'])\n"
    )
    done = _windows_like(tmp_path, script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1"]


def test_gunicorn_on_windows_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    code = main(["run", "sample_apps.hello:application", "--server", "gunicorn", "--headless"])
    assert (code, capsys.readouterr().err) == (
        2,
        "trace: error: --server gunicorn does not run on Windows (gunicorn forks its workers): "
        "use --server waitress for a WSGI app or --server uvicorn for an ASGI app, or run "
        "trace under WSL.\n",
    )


@pytest.mark.parametrize("server", ["uvicorn", "hypercorn", "waitress", "granian", "daphne"])
def test_a_real_server_on_windows_is_one_line(
    server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Stopped by a POSIX signal to its process group, its log read with ``os.pread``: not
    there yet. (``--loop uvloop``, with no Windows build, is refused with the server.)"""
    monkeypatch.setattr(sys, "platform", "win32")
    argv = ["run", "sample_apps.hello:asgi_app", "--server", server, "--headless"]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        f"trace: error: --server {server} does not run under trace on Windows yet (trace stops "
        "a real server through POSIX process groups and signals): use an in-process model, "
        "--server loop for an ASGI app or --server threads for a WSGI app, or run trace "
        "under WSL.\n"
    )


def test_serve_without_process_groups_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delattr(os, "killpg")  # Windows has none
    assert main(["demo", "sync-vs-async", "--serve", "--port", "8765"]) == 2
    assert capsys.readouterr().err == (
        "trace: error: --serve does not run on Windows (each browser session's process is "
        "ended with its process group): run trace demo in a terminal, or run trace under WSL.\n"
    )


def test_run_on_a_terminal_without_termios_runs_headless(tmp_path: Path) -> None:
    """A terminal on which Textual's Linux driver cannot run (Windows' console): the run says
    so in one line and prints its report, instead of an ImportError."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import sys\nsys.modules['termios'] = None\n")
    leader, follower = os.openpty()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT), *sys.path])}
    env["TERM"] = "xterm-256color"
    argv = ["run", "sample_apps.hello:application", "-n", "4", "-c", "1", "--record", "r.jsonl"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracer", *argv],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=tmp_path,
        env=env,
    )
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + 50
    while time.monotonic() < deadline:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the other side closed: the process ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=10) == 0
    said = b"".join(chunks).decode("utf-8", "replace")
    assert (
        "trace: no live dashboard on Windows (it needs a POSIX terminal): running headless; "
        "trace replay shows the recording\r\n"
    ) in said
    assert "Traceback" not in said
    assert "4 (4 completed)" in said


IMPORT_ALL = """
import importlib, pkgutil
import sim, tracer
failed = []
for package in (tracer, sim):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if module.name == "tracer.__main__":
            continue
        try:
            importlib.import_module(module.name)
        except ImportError as exc:
            failed.append(f"{module.name}: {exc}")
print(*failed, sep="\\n")
"""


def test_only_the_live_dashboard_needs_a_posix_module_to_import(tmp_path: Path) -> None:
    """Every module of the package imports without fork, fcntl, termios, resource...; but the
    live dashboard's two, which ``trace run`` imports only where ``termios`` is."""
    done = _windows_like(tmp_path, IMPORT_ALL)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "tracer.tui.live: import of termios halted; None in sys.modules",
        "tracer.tui.own_terminal: import of termios halted; None in sys.modules",
    ]

"""``trace run --server uvicorn|...`` from the command line: flags, errors, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from real_helpers import ROOT, alive

from tracer.servers.real.harness import group_members

pytestmark = pytest.mark.timeout(90)


def _trace(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracer", "run", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=80, **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip


def test_run_on_gunicorn_with_its_flags(tmp_path: Path) -> None:
    """--server gunicorn --workers 2 --threads 2 --worker-class gthread --no-keepalive: exit 0,
    every request answered, and the header says how the server ran."""
    record = tmp_path / "run.jsonl"
    done = _trace(
        "sample_apps.hello:application", "--server", "gunicorn", "--workers", "2",
        "--threads", "2", "--worker-class", "gthread", "--no-keepalive",
        "-n", "40", "-c", "4", "--headless", "--json", "--record", str(record),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["completed"] == 40 and summary["status"] == {"200": 40}
    header = json.loads(record.read_text().splitlines()[0])
    assert header["server"] == {
        "model": "gunicorn", "workers": 2, "real": True, "threads": 2, "worker_class": "gthread",
    }  # fmt: skip


def test_uvicorn_flags_reach_the_server(tmp_path: Path) -> None:
    """--loop asyncio --http h11 --limit-concurrency 50 are uvicorn's own and land in the header."""
    record = tmp_path / "run.jsonl"
    done = _trace(
        "sample_apps.hello:asgi_app", "--server", "uvicorn", "--loop", "asyncio", "--http", "h11",
        "--limit-concurrency", "50", "-n", "20", "-c", "2", "--headless", "--json",
        "--record", str(record),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    server = json.loads(record.read_text().splitlines()[0])["server"]
    assert (server["loop"], server["http"], server["limit_concurrency"]) == ("asyncio", "h11", 50)


def test_a_worker_class_that_does_not_fit_is_exit_2_one_line(tmp_path: Path) -> None:
    """--worker-class sync for an ASGI app: exit 2, one line on stderr, nothing started."""
    done = _trace(
        "sample_apps.hello:asgi_app", "--server", "gunicorn", "--worker-class", "sync",
        "-n", "1", "--headless", "--record", str(tmp_path / "r.jsonl"),
    )  # fmt: skip
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == [
        "trace: error: --worker-class sync cannot run an ASGI app; use --worker-class asgi."
    ]


def _server_children(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(")") + 2 :].split()[1])
        if ppid == parent and b"tracer.servers.real.bootstrap" in cmdline:
            found.append(int(entry))
    return found


def _server_with_traffic(trace: subprocess.Popen[Any], record: Path) -> int:
    """The pid of trace's server, once it runs and the recording holds a response (bounded)."""
    deadline = time.monotonic() + 30
    masters: list[int] = []
    while time.monotonic() < deadline and not (
        masters and record.exists() and b"client.response" in record.read_bytes()
    ):
        masters = masters or _server_children(trace.pid)
        time.sleep(0.05)
    assert masters, "the server never started"
    (master,) = masters
    return master


def _events(record: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in record.read_text().splitlines()[1:]]


def test_ctrl_c_stops_the_server_and_keeps_the_recording(tmp_path: Path) -> None:
    """SIGINT to ``trace run --server gunicorn -z 60s``: trace exits, the recording holds the
    requests sent so far, and no process of the server's group is left."""
    record = tmp_path / "run.jsonl"
    trace = subprocess.Popen(
        [sys.executable, "-m", "tracer", "run", "sample_apps.hello:application",
         "--server", "gunicorn", "--workers", "2", "-z", "60s", "-c", "2", "--headless",
         "--record", str(record)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        master = _server_with_traffic(trace, record)
        assert len(group_members(master)) == 3  # the master and its two workers
        trace.send_signal(signal.SIGINT)
        trace.wait(30)
    finally:
        if trace.poll() is None:
            trace.kill()
    assert group_members(master) == [] and not alive(master)
    assert b"client.response" in record.read_bytes()


def test_http2_and_plan_headers_through_trace_run(tmp_path: Path) -> None:
    """trace run --server hypercorn --http2 -H 'X-Extra: 1': the load generator's requests (with
    its own Host header) go out as HTTP/2 streams, and the app sees HTTP/2."""
    record = tmp_path / "run.jsonl"
    done = _trace(
        "sample_apps.hello:asgi_app", "--server", "hypercorn", "--http2", "-H", "X-Extra: 1",
        "-n", "30", "-c", "6", "--headless", "--json", "--record", str(record),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == {"200": 30}
    events = _events(record)
    starts = [
        e for e in events if e["kind"] == "request.start" and e["data"]["scope_type"] == "http"
    ]
    assert len(starts) == 30 and {e["data"]["http_version"] for e in starts} == {"2"}


def test_websocket_sessions_through_trace_run(tmp_path: Path) -> None:
    """trace run sample_apps.fastapi_app:app --server uvicorn --path ws:/ws --ws-messages 3:
    every session is accepted (101) and the app received 3 messages in each."""
    record = tmp_path / "run.jsonl"
    done = _trace(
        "sample_apps.fastapi_app:app", "--server", "uvicorn", "--path", "ws:/ws",
        "--ws-messages", "3", "-n", "6", "-c", "3", "--headless", "--json",
        "--record", str(record),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == {"101": 6}
    events = _events(record)
    received = [
        e for e in events
        if e["kind"] == "asgi.receive" and e["data"]["type"] == "websocket.receive"
    ]  # fmt: skip
    assert len(received) == 18


def test_a_killed_trace_takes_its_server_down(tmp_path: Path) -> None:
    """SIGKILL to ``trace run --server uvicorn --workers 2`` (no chance to clean up): the server's
    processes notice their parent is gone, remove the run's temporary folder, and the whole
    group exits, within a bound."""
    record = tmp_path / "run.jsonl"
    trace = subprocess.Popen(
        [sys.executable, "-m", "tracer", "run", "sample_apps.hello:asgi_app",
         "--server", "uvicorn", "--workers", "2", "-z", "60s", "-c", "2", "--headless",
         "--record", str(record)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        master = _server_with_traffic(trace, record)
        members = group_members(master)
        assert len(members) >= 3  # the supervisor, two workers (and helpers)
        (run_dir,) = {
            ready.parent
            for pid in members
            for ready in Path(tempfile.gettempdir()).glob(f"gateway-tracer-uvicorn-*/{pid}.ready")
        }
        trace.kill()
        trace.wait(10)
        deadline = time.monotonic() + 15
        while group_members(master) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert group_members(master) == []
    finally:
        if trace.poll() is None:
            trace.kill()
    assert not run_dir.exists()


def test_a_server_the_app_kills_stops_the_load_and_says_so(tmp_path: Path) -> None:
    """The app calls os._exit on its third request: the load stops at once (it would knock on
    a closed port for the rest of -z), one line names the exit code, the report and the
    recording keep what happened, and the exit code is 0 (the app's failure is data)."""
    record = tmp_path / "run.jsonl"
    done = _trace(
        "tests.servers.real.real_dying:app", "--server", "uvicorn", "-c", "1", "-z", "20s",
        "--headless", "--json", "--record", str(record),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if line.startswith("trace: uvicorn")]
    assert said == [
        "trace: uvicorn exited by itself during the run (exit code 3); requests after that "
        "failed and the load was stopped."
    ]
    summary = json.loads(done.stdout)
    # Left to run, -z 20s of refused connections (~0.5 ms each) would be tens of thousands;
    # a few may be refused before the exit is visible to the parent.
    assert summary["status"] == {"200": 2} and summary["requests"] < 1000
    assert summary["wall_s"] < 10


def test_a_server_that_cannot_load_the_app_leaves_no_recording(tmp_path: Path) -> None:
    """The app fails to import inside the server: one line, exit 2, and no header-only
    recording left behind (as when the app fails to import in trace itself)."""
    record = tmp_path / "run.jsonl"
    done = _trace(
        "tests.servers.real.real_fails_in_server:app", "--server", "uvicorn", "-n", "2",
        "--headless", "--record", str(record),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "uvicorn could not load the app" in done.stderr
    assert not record.exists()


_NOISY_APP = """
import sys

print("IMPORTED")

def app(environ, start_response):
    # One write per line: print()'s pieces from two threads at once could interleave.
    sys.stdout.write("PRINTED BY " + environ["PATH_INFO"] + "\\n")
    sys.stdout.flush()
    if environ["PATH_INFO"] == "/fails":
        raise ValueError("the app's own error")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"x"]
"""


@pytest.mark.parametrize("server", ["waitress", "uvicorn"])
def test_what_the_server_printed_is_saved_beside_the_recording(tmp_path: Path, server: str) -> None:
    """The app's prints and the server's log (a traceback per failed request) were lost with
    the server's temporary file; now they are a file next to the recording, named on stderr,
    and --json's stdout is still the summary alone."""
    (tmp_path / "noisy.py").write_text(_NOISY_APP)
    record = tmp_path / "run.jsonl"
    done = _trace(
        "noisy:app", "--app-dir", str(tmp_path), "--server", server, "-n", "6", "-c", "2",
        "--path", "/", "--path", "/fails", "--json", "--record", str(record),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["errors"] == 3
    log = tmp_path / "run.server.log"
    text = log.read_text()
    assert text.count("PRINTED BY /\n") == 3
    assert text.count("PRINTED BY /fails") == 3
    assert text.count("the app's own error") >= 3  # the server logged each failure
    lines = len(text.splitlines())
    assert f"{server} printed {lines:,} lines (its log and the app's output): {log}" in done.stderr


def test_a_server_that_printed_nothing_leaves_no_log(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    done = _trace(
        "sample_apps.hello:asgi_app", "--server", "uvicorn", "-n", "3", "--json",
        "--record", str(record),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "run.server.log").exists()
    assert "lines (its log" not in done.stderr


@pytest.mark.parametrize(
    "argv,package",
    [
        (["--server", "uvicorn", "--loop", "uvloop"], "uvloop"),
        (["--server", "uvicorn", "--http", "httptools"], "httptools"),
    ],
)
def test_an_option_whose_package_is_missing_is_one_line_before_the_server_starts(
    argv: list[str],
    package: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """uvicorn would start, fail to import uvloop and leave its traceback in the log: the
    package is looked for first (hidden here, whether it is installed or not)."""
    import importlib.util

    from tracer.cli import main

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == package else real_find_spec(name, *args),
    )
    record = tmp_path / "run.jsonl"
    code = main(["run", "sample_apps.hello:asgi_app", *argv, "-n", "1", "--record", str(record)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == [
        f"trace: error: {argv[2]} {argv[3]} needs the {package} package, which is not installed. "
        f"Install it with: pip install {package} (or leave {argv[2]} out)."
    ]
    assert not list(tmp_path.iterdir())  # no recording, no server log


@pytest.mark.parametrize(
    ("package", "argv", "what"),
    [
        ("h2", ["sample_apps.hello:asgi_app", "--server", "hypercorn", "--http2"], "--http2"),
        (
            "wsproto",
            ["sample_apps.websocket:app", "--server", "uvicorn", "--ws-messages", "2"],
            "WebSocket sessions (ws: paths, --ws-messages)",
        ),
    ],
)
def test_a_client_package_that_is_missing_is_named_before_the_server_starts(
    package: str,
    argv: list[str],
    what: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without h2 or wsproto every request failed on the client's import: the run "completed"
    0 of N with exit 0 and nothing named the package. Now: one line, exit 2, no server."""
    import importlib.util

    from tracer.cli import main

    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        return None if name == package else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    server = argv[2]
    code = main(["run", *argv, "-n", "2", "--headless", "--record", str(tmp_path / "r.jsonl")])
    assert code == 2
    assert capsys.readouterr().err == (
        f"trace: error: {what} against --server {server} needs the {package} package, which is "
        f'not installed. Install it with: pip install {package} (or "gateway-tracer[servers]").\n'
    )

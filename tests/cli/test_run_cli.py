"""``trace run``: the report, --json on a clean stdout, the recording, and bad input."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import trace_cli

from tracer import events as K
from tracer.recording import load

pytestmark = pytest.mark.timeout(120)


def test_json_is_alone_on_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json: stdout is exactly one JSON summary; the recording path goes to stderr."""
    record = tmp_path / "run.jsonl"
    code, out, err = trace_cli(
        capsys, "run", "-n", "40", "-c", "4", "--json", "--record", str(record)
    )
    assert code == 0
    summary = json.loads(out)
    assert summary["requests"] == 40 and summary["status"] == {"200": 40}
    assert f"recording: {record}" in err
    assert load(record).header["server"]["model"] == "loop"


def test_an_open_loops_json_summary_is_the_recordings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--rate: the summary --json prints (made as the run goes, before the header had its load)
    is tracer.summarize's of the recording: an open loop's rps over the time its arrivals were
    offered in, so 20 requests at 400 a second (seed 4: drawn into ~40 ms) read 400, not 480."""
    from tracer.summary import summarize

    record = tmp_path / "open.jsonl"
    argv = ["run", "-n", "20", "--rate", "400", "--seed", "4", "--json", "--record", str(record)]
    code, out, err = trace_cli(capsys, *argv)
    assert code == 0, err
    printed = json.loads(out)
    assert printed == summarize(record)
    assert printed["completed"] == 20 and printed["rps"] <= 400.0


def test_headless_report_and_default_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a TTY: progress, the report table, and traces/<app>-<time>.jsonl in the cwd."""
    monkeypatch.chdir(tmp_path)
    code, out, err = trace_cli(
        capsys,
        "run",
        "sample_apps.io_bound:wsgi_app",
        "--path",
        "/?ms=10",
        "-n",
        "12",
        "-c",
        "6",
        "--threads",
        "2",
    )
    assert code == 0
    for expected in (
        "io_bound",
        "Latency (ms)",
        "p99.9",
        "queued",
        "max in flight",
        "Workers",
        "waitress-0",
    ):
        assert expected in out, expected
    [recording] = list((tmp_path / "traces").glob("io_bound-wsgi_app-*.jsonl"))
    assert out.rstrip().endswith(f"recording: {os.path.join('traces', recording.name)}")
    assert "trace run" in err  # the progress bar


def test_app_exceptions_are_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An app that raises: the run completes, exit 0, the errors are counted."""
    (tmp_path / "broken.py").write_text(
        "def app(environ, start_response):\n    raise KeyError('x')\n"
    )
    code, out, _ = trace_cli(
        capsys,
        "run",
        "broken:app",
        "--app-dir",
        str(tmp_path),
        "-n",
        "5",
        "-c",
        "2",
        "--json",
        "--record",
        str(tmp_path / "r.jsonl"),
    )
    summary = json.loads(out)
    assert code == 0 and summary["errors"] == 5 and summary["completed"] == 5


@pytest.mark.parametrize(
    "argv,message",
    [
        (["-c", "0"], "-c/--concurrency must be greater than 0"),
        (["-n", "-3"], "-n/--requests must be greater than 0"),
        (["--threads", "-1"], "--threads must be greater than 0"),
        (["-z", "ten"], '-z "ten" is not a duration'),
        (["--server", "fibers"], 'Unknown server model "fibers"'),
        (["--server", "threads"], "--server loop"),
        (["sample_apps.nope:app"], "nope"),
        (["--body-file", "/nonexistent/body"], "Cannot read --body-file"),
        (["-H", "bad header"], "Name: value"),
        (["--block-threshold-ms", "0"], "0 is out of range: give a number above 0"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Usage and load errors: exit 2, one line on stderr naming the problem, no recording left."""
    monkeypatch.chdir(tmp_path)
    extra = [] if {"-n", "-z"} & set(argv) else ["-n", "5"]
    code, out, err = trace_cli(capsys, "run", *argv, *extra)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "traces").exists() or not list((tmp_path / "traces").iterdir())


def test_import_errors_through_the_console_entry(tmp_path: Path) -> None:
    """python -m tracer: a missing module is one line; an app raising on import shows its own
    traceback (not the tool's) and ends with the one-line error; both exit 2."""
    (tmp_path / "explodes.py").write_text("raise RuntimeError('no config')\napp = None\n")

    def trace(app: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "tracer", "run", app, "--app-dir", str(tmp_path), "-n", "1"]
        return subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, timeout=60)

    missing = trace("not_there:app")
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1
    assert "Traceback" not in missing.stderr and "not_there" in missing.stderr
    raising = trace("explodes:app")
    assert raising.returncode == 2
    assert "tracer/" not in raising.stderr  # no frame of the tool itself
    assert raising.stderr.strip().splitlines()[-1].startswith("trace: error:")
    assert "no config" in raising.stderr


_SLOW_IMPORT_APP = """
import time

time.sleep(0.05)  # a slow import: what comes before the load must not be in the timeline
IMPORTED_NS = time.monotonic_ns()


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


@pytest.mark.parametrize("live", [False, True])
def test_the_recording_starts_when_the_load_does(
    live: bool,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """t=0 of the recording comes after the app's import and (on a terminal) after the
    dashboard's start-up, so the timeline does not open on a stretch of nothing; the header's
    wall clock moves with it."""
    import threading
    import time

    import tracer.cli.run as run_cli

    (tmp_path / "slow_import_app.py").write_text(_SLOW_IMPORT_APP)
    monkeypatch.syspath_prepend(str(tmp_path))
    dashboard_up: list[int] = []
    if live:

        def fake_live(recorder: object, work: object, **options: object) -> None:
            time.sleep(0.05)  # the dashboard's start-up
            dashboard_up.append(time.monotonic_ns())
            work(threading.Event())  # type: ignore[operator]

        monkeypatch.setattr(run_cli, "_live_runner", lambda: fake_live)
        monkeypatch.setattr(run_cli, "on_terminal", lambda: True)
    record = tmp_path / "run.jsonl"
    argv = ["run", "slow_import_app:app", "-n", "8", "-c", "2", "--record", str(record)]
    code, _, _ = trace_cli(capsys, *argv, *([] if live else ["--headless"]))
    assert code == 0
    import slow_import_app  # type: ignore[import-not-found]

    recording = load(record)
    clock = recording.header["clock"]
    assert clock["monotonic_ns"] >= slow_import_app.IMPORTED_NS
    if live:
        assert clock["monotonic_ns"] >= dashboard_up[0]
    first_queued = min(e.t for e in recording.events if e.kind == K.REQUEST_QUEUED)
    assert first_queued >= 0 and len({e.req for e in recording.events if e.req}) == 8


def test_ctrl_c_sets_the_stop_event_and_a_second_one_interrupts() -> None:
    """During a headless run, SIGINT sets ``stop`` (it cannot be lost in a finaliser the way a
    KeyboardInterrupt can); a second SIGINT raises KeyboardInterrupt; the handler is restored."""
    import signal
    import threading

    from tracer.cli.signals import ctrl_c_sets as _ctrl_c_sets

    before = signal.getsignal(signal.SIGINT)
    stop = threading.Event()
    with pytest.raises(KeyboardInterrupt), _ctrl_c_sets(stop):
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.wait(5)
        os.kill(os.getpid(), signal.SIGINT)
        threading.Event().wait(5)  # the handler raises here
    assert signal.getsignal(signal.SIGINT) is before


def test_sigterm_ends_a_headless_run_as_ctrl_c_does(tmp_path: Path) -> None:
    """``timeout``, a container stopping or a supervisor send SIGTERM: the load stops, the
    report is printed, the recording is complete (it died mid-write, unreported, before). A
    second SIGTERM does not turn into an interrupt."""
    import signal
    import time

    record = tmp_path / "run.jsonl"
    trace = subprocess.Popen(
        [sys.executable, "-m", "tracer", "run", "sample_apps.io_bound:asgi_app", "-c", "5",
         "-n", "1000000", "--headless", "--record", str(record)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            not record.exists() or record.read_text().count("request.end") < 5
        ):
            time.sleep(0.1)
        # Twice, as GNU timeout does (the child, then its process group): still one stop.
        trace.send_signal(signal.SIGTERM)
        time.sleep(0.05)
        trace.send_signal(signal.SIGTERM)
        out, _ = trace.communicate(timeout=60)
    finally:
        if trace.poll() is None:
            trace.kill()
    assert trace.returncode == 0
    assert f"recording: {record}" in out and "requests" in out
    recording = load(record)
    assert not recording.truncated
    starts = {e.req for e in recording.events if e.kind == K.REQUEST_START}
    ends = {e.req for e in recording.events if e.kind == K.REQUEST_END}
    assert starts and starts <= ends  # every request it started has its end


def test_a_ctrl_c_lost_during_start_up_is_still_noted() -> None:
    """During start-up (the app's import) Ctrl-C interrupts as usual, and is noted even when
    something on the way swallowed the KeyboardInterrupt (as a finaliser does)."""
    import signal
    import threading

    from tracer.cli.signals import ctrl_c_noted as _ctrl_c_noted

    before = signal.getsignal(signal.SIGINT)
    with _ctrl_c_noted() as pressed:
        try:
            os.kill(os.getpid(), signal.SIGINT)
            threading.Event().wait(5)  # the handler raises here
        except KeyboardInterrupt:
            pass  # swallowed, as an "Exception ignored in ..." would
    assert pressed.is_set()
    assert signal.getsignal(signal.SIGINT) is before


NOISY_APP = """
print("IMPORT-TIME NOISE")


def app(environ, start_response):
    print("NOISE")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"x"]
"""


@pytest.mark.parametrize("server", ["threads", "processes"])
def test_json_stays_alone_on_stdout_when_the_app_prints(tmp_path: Path, server: str) -> None:
    """An app that prints at import and per request (in child processes too): --json is still
    the summary alone on stdout; the app's words go to stderr."""
    (tmp_path / "noisy.py").write_text(NOISY_APP)
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "run", "noisy:app", "--server", server, "-n", "5",
         "--json", "--app-dir", str(tmp_path), "--record", str(tmp_path / "r.jsonl")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["completed"] == 5
    assert "IMPORT-TIME NOISE" in done.stderr and "NOISE" in done.stderr


def test_an_open_loop_that_could_not_keep_up_is_said_so() -> None:
    """--rate for -z sent clearly fewer requests than asked (the machine could not generate
    them): one warning line; within Poisson's spread, none."""
    from types import SimpleNamespace

    from tracer.cli.run_end import open_loop_shortfall as _open_loop_shortfall

    config = SimpleNamespace(rate=8000.0, duration=10.0)
    said = _open_loop_shortfall(config, 71_724, stopped=False)
    assert said.startswith("trace: the load generator sent 71724 requests, 90% of the 80000")
    assert _open_loop_shortfall(config, 79_700, stopped=False) == ""  # chance
    assert _open_loop_shortfall(config, 10, stopped=True) == ""  # Ctrl-C: asked to stop
    closed = SimpleNamespace(rate=None, duration=10.0)
    assert _open_loop_shortfall(closed, 10, stopped=False) == ""


_APPS = {
    "startup_fails.py": (
        "async def app(scope, receive, send):\n"
        "    if scope['type'] == 'lifespan':\n"
        "        await receive()\n"
        "        await send({'type': 'lifespan.startup.failed', 'message': 'no database'})\n"
        "        return\n"
        "    await send({'type': 'http.response.start', 'status': 200})\n"
        "    await send({'type': 'http.response.body'})\n"
    ),
    "exits15.py": (
        "import itertools, os\n"
        "_n = itertools.count(1)\n"
        "def app(environ, start_response):\n"
        "    if next(_n) == 15:\n"
        "        os._exit(7)\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'ok']\n"
    ),
    "ints.py": (
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [1, 2, 3]\n"
    ),
}


def _write_apps(folder: Path) -> None:
    for name, text in _APPS.items():
        (folder / name).write_text(text)


def test_an_app_whose_lifespan_startup_failed_is_not_served(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """lifespan.startup.failed on the loop model: as uvicorn, no load; one line names the
    app's message, exit 2, and the recording is kept with the lifespan's events."""
    _write_apps(tmp_path)
    record = tmp_path / "run.jsonl"
    code, _, err = trace_cli(
        capsys, "run", "startup_fails:app", "--app-dir", str(tmp_path), "-n", "5",
        "--headless", "--record", str(record),
    )  # fmt: skip
    assert code == 2
    [line] = [line for line in err.splitlines() if line.startswith("trace:")]
    assert line.startswith("trace: error:") and '"no database"' in line
    sends = [e.data["type"] for e in load(record).events if e.kind == K.ASGI_SEND]
    assert sends == ["lifespan.startup.failed"]


def test_an_app_calling_os_exit_in_process_says_so_and_keeps_the_recording(
    tmp_path: Path,
) -> None:
    """The app calls os._exit(7) in process (threads): one line says so and names the
    recording, which holds the 14 requests answered before; the exit code is the app's."""
    _write_apps(tmp_path)
    record = tmp_path / "run.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "run", "exits15:app", "--app-dir", str(tmp_path),
         "-n", "20", "-c", "5", "--headless", "--record", str(record)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 7
    assert done.stderr.strip().splitlines()[-1] == (
        f"trace: the app called os._exit(7) during the run; the recording ends here: {record}"
    )
    ends = [e for e in load(record).events if e.kind == K.REQUEST_END]
    assert [e.data["status"] for e in ends] == [200] * 14


def test_a_dead_worker_process_is_one_line_and_the_load_stops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--server processes, the app calling os._exit(7): one line says a worker process exited
    by itself, the report follows, exit 0, as for a real server that exits."""
    _write_apps(tmp_path)
    code, out, err = trace_cli(
        capsys, "run", "exits15:app", "--app-dir", str(tmp_path), "--server", "processes",
        "-n", "20", "-c", "5", "--headless", "--record", str(tmp_path / "run.jsonl"),
    )  # fmt: skip
    assert code == 0 and "requests" in out
    assert (
        "trace: a worker process of --server processes exited by itself during the run "
        "(exit code 7); the requests it was running failed and the load was stopped."
    ) in err


def test_the_progress_bar_and_the_report_count_the_same_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An app whose body items are not bytes: the progress bar's failed responses, the
    summary's errors and its status codes agree (every request a 500, as from waitress)."""
    _write_apps(tmp_path)
    code, out, err = trace_cli(
        capsys, "run", "ints:app", "--app-dir", str(tmp_path), "-n", "6", "-c", "3", "--json",
        "--record", str(tmp_path / "run.jsonl"),
    )  # fmt: skip
    assert code == 0
    summary = json.loads(out)
    assert summary["errors"] == 6 and summary["status"] == {"500": 6}
    assert "failed responses 6" in err


class _Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("redirected", ["stderr", "stdin", "stdout"])
def test_the_dashboard_needs_every_standard_stream_on_a_terminal(
    redirected: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Textual draws on standard error and reads keys from standard input: with either one
    redirected (``2> log``), the dashboard drew its escape codes into the file and the pane
    stayed blank. Now the run is headless then, as with standard output redirected."""
    import tracer.cli.run as run_cli
    from tracer.cli import terminal

    streams = {"stdin": _Terminal(), "stdout": _Terminal(), "__stderr__": _Terminal()}
    streams["__stderr__" if redirected == "stderr" else redirected] = io.StringIO()
    for name, stream in streams.items():
        monkeypatch.setattr(terminal.sys, name, stream)
    assert not terminal.on_terminal()
    started: list[bool] = []
    monkeypatch.setattr(run_cli, "_live_runner", lambda: started.append(True))
    monkeypatch.setattr(run_cli, "on_terminal", terminal.on_terminal)
    argv = ["run", "sample_apps.hello:asgi_app", "-n", "2", "--record", str(tmp_path / "r.jsonl")]
    code, _, _ = trace_cli(capsys, *argv)
    assert code == 0 and started == []


def test_with_every_standard_stream_on_a_terminal_the_ui_can_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tracer.cli import terminal

    for name in ("stdin", "stdout", "__stderr__"):
        monkeypatch.setattr(terminal.sys, name, _Terminal())
    assert terminal.on_terminal() and terminal.can_draw()


def test_a_servers_last_words_leave_its_routine_log_out() -> None:
    """The line that says why a real server exited: not its last line when that is routine
    (waitress warns of its queue's depth whenever requests wait for a thread, and logs where
    it serves at INFO); the line naming the failure when there is one; none when the server
    said nothing about it."""
    from tracer.cli.run_end import last_words as _last_words

    waitress = (
        "INFO:waitress:Serving on http://127.0.0.1:58727\n"
        "WARNING:waitress.queue:Task queue depth is 2\n"
        "WARNING:waitress.queue:Task queue depth is 6\n"
    )
    assert _last_words(waitress) == ""
    gunicorn = (
        "[2026-11-27 07:29:28 +0000] [9994] [INFO] Booting worker with pid: 10163\n"
        "[2026-11-27 07:29:29 +0000] [9994] [ERROR] Worker (pid:10163) exited with code 1.\n"
        "[2026-11-27 07:29:29 +0000] [9994] [INFO] Shutting down: Master\n"
    )
    assert _last_words(gunicorn).endswith("[ERROR] Worker (pid:10163) exited with code 1.")
    crash = (
        "INFO:     Application startup complete.\n"
        "Fatal Python error: Segmentation fault\n\n"
        "Current thread 0x00007f (most recent call first):\n"
        '  File "/app/segv.py", line 6 in app\n'
    )
    assert _last_words(crash) == "Fatal Python error: Segmentation fault"


WAITRESS = pytest.mark.skipif(
    importlib.util.find_spec("waitress") is None, reason="waitress is not installed"
)


@WAITRESS
def test_waitress_exiting_is_not_said_in_its_queue_warning(tmp_path: Path) -> None:
    """The app ends waitress (os._exit) while requests wait for its threads: the line saying
    so quoted waitress's routine "Task queue depth is 46" as its last words."""
    (tmp_path / "exits_busy.py").write_text(
        "import itertools, os, time\n"
        "_n = itertools.count(1)\n"
        "def app(environ, start_response):\n"
        "    time.sleep(0.01)\n"
        "    if next(_n) == 100:\n"
        "        os._exit(3)\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'ok']\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "run", "exits_busy:app", "--app-dir", str(tmp_path),
         "--server", "waitress", "-c", "50", "-n", "400", "--headless",
         "--record", str(tmp_path / "run.jsonl")],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    [line] = [line for line in done.stderr.splitlines() if "exited by itself" in line]
    assert line.startswith("trace: waitress exited by itself during the run (exit code 3)")
    assert "Task queue depth" not in line and "Its last words" not in line, line
    assert "Task queue depth" in (tmp_path / "run.server.log").read_text()


@pytest.mark.parametrize(
    "argv,method",
    [
        (["-d", "hello"], "POST"),
        (["--data="], "POST"),  # an empty body given is a body, as curl -d '' POSTs
        (["--body-file", "BODY"], "POST"),
        (["-d", "hello", "-m", "PUT"], "PUT"),
        (["-d", "hello", "-m", "get"], "GET"),  # asked for: a GET with a body
        ([], "GET"),
    ],
)
def test_a_body_implies_post_unless_a_method_is_given(
    argv: list[str], method: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``-d`` / ``--body-file`` without ``-m`` sent a GET with a body; as curl's ``-d``, they
    imply POST now: the recording's header and every request say so. ``-m`` still decides
    when given."""
    (tmp_path / "BODY").write_bytes(b"from a file")
    argv = [str(tmp_path / "BODY") if a == "BODY" else a for a in argv]
    record = tmp_path / "run.jsonl"
    code, _, err = trace_cli(
        capsys, "run", "sample_apps.echo:asgi_app", "-n", "3", "-c", "1", *argv,
        "--json", "--record", str(record),
    )  # fmt: skip
    assert code == 0, err
    recording = load(record)
    assert recording.header["load"]["method"] == method
    starts = [e for e in recording.events if e.kind == K.REQUEST_START]
    assert [e.data["method"] for e in starts if e.data["scope_type"] == "http"] == [method] * 3


def test_a_body_to_websocket_sessions_only_is_refused_as_a_body(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Every path a WebSocket session: ``-d`` is refused naming the body alone, not a
    ``-m POST`` that was never typed."""
    code, _, err = trace_cli(
        capsys, "run", "sample_apps.websocket:app", "--path", "ws:/ws", "-d", "x", "-n", "1",
        "--record", str(tmp_path / "run.jsonl"),
    )  # fmt: skip
    assert code == 2
    assert "a body would not be sent" in err and "-m" not in err


def test_a_hung_lifespan_shutdown_is_said_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--server loop gives up on a lifespan shutdown that hangs, and trace run says so on
    stderr (it was cancelled silently): the run itself is fine, exit 0."""
    (tmp_path / "hangdown.py").write_text(
        "import asyncio\n"
        "async def app(scope, receive, send):\n"
        "    if scope['type'] == 'lifespan':\n"
        "        while True:\n"
        "            message = await receive()\n"
        "            if message['type'] == 'lifespan.startup':\n"
        "                await send({'type': 'lifespan.startup.complete'})\n"
        "            else:\n"
        "                await asyncio.sleep(3600)\n"
        "    await send({'type': 'http.response.start', 'status': 200, 'headers': []})\n"
        "    await send({'type': 'http.response.body', 'body': b'ok'})\n"
    )
    argv = ["run", "hangdown:app", "--app-dir", str(tmp_path), "-n", "3", "--headless"]
    code, _, err = trace_cli(capsys, *argv, "--record", str(tmp_path / "r.jsonl"))
    assert code == 0, err
    (line,) = [line for line in err.splitlines() if "lifespan shutdown" in line]
    assert line.startswith("trace: the app's lifespan shutdown did not finish within")
    assert "Traceback" not in err

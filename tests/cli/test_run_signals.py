"""``trace run`` and signals: SIGTERM under the live dashboard, an interrupt during start-up.

The dashboard runs only with every standard stream on a terminal, so these run ``trace`` on a
pseudo-terminal of their own and read what it wrote there, escape sequences included.
"""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tracer import events as K
from tracer.recording import load

pytestmark = pytest.mark.timeout(120)

ALT_SCREEN_ON = b"\x1b[?1049h"
ALT_SCREEN_OFF = b"\x1b[?1049l"


def _take_terminal() -> None:
    """In the child: its terminal (standard input) becomes its controlling terminal, as in a
    terminal emulator, so that job control (SIGTTOU for a background group) is real."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class OnTerminal:
    """``COMMAND`` with its standard streams on a new 120×40 pseudo-terminal, the controlling
    terminal of a session of its own (signals sent to it reach only it and its children), and
    what it writes there."""

    def __init__(self, command: list[str]) -> None:
        primary, secondary = os.openpty()
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
        self.process = subprocess.Popen(
            command,
            stdin=secondary,
            stdout=secondary,
            stderr=secondary,
            env=env,
            start_new_session=True,
            preexec_fn=_take_terminal,  # after setsid: the session's controlling terminal
        )
        os.close(secondary)
        self._primary = primary
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._primary, 65536)
            except OSError:  # EIO: every process holding the terminal has gone
                return
            if not chunk:
                return
            self._chunks.append(chunk)

    @property
    def output(self) -> bytes:
        """Everything written to the terminal so far."""
        return b"".join(self._chunks)

    def finish(self, seconds: float) -> int:
        """Wait for the command's exit code (killing it, by its pid, if it takes longer)."""
        try:
            return self.process.wait(seconds)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(10)
            self._reader.join(10)
            os.close(self._primary)


def _ends_recorded(record: Path) -> int:
    try:
        return record.read_text(encoding="utf-8", errors="replace").count(K.REQUEST_END)
    except OSError:
        return 0


def _wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("server", ["threads", "processes"])
def test_sigterm_under_the_dashboard_ends_the_run_as_ctrl_c_does(
    tmp_path: Path, server: str
) -> None:
    """``timeout N trace run`` on a terminal: SIGTERM stops the load as a first Ctrl-C does on
    the dashboard. The recording is finished (every request that started has its end), the
    terminal is given back (the alternate screen left), the report printed, exit code 0. It
    used to kill ``trace`` at once, the terminal left in the alternate screen with mouse
    reporting on and in-flight requests without ends. GNU timeout sends SIGTERM to the child
    and then to its whole group (the workers of ``processes`` too): still one stop."""
    record = tmp_path / "run.jsonl"
    workers = ["--workers", "2"] if server == "processes" else []
    trace = OnTerminal([
        sys.executable, "-m", "tracer", "run", "sample_apps.io_bound:wsgi_app",
        "--server", server, *workers, "-c", "20", "-n", "1000000", "--record", str(record),
    ])  # fmt: skip
    try:
        assert _wait_until(lambda: _ends_recorded(record) >= 20, 60), trace.output[-2000:]
        assert ALT_SCREEN_ON in trace.output
        trace.process.send_signal(signal.SIGTERM)
        time.sleep(0.05)
        os.killpg(trace.process.pid, signal.SIGTERM)  # the group trace leads, as timeout does
    finally:
        code = trace.finish(60)
    output = trace.output
    assert code == 0, output[-3000:]
    assert ALT_SCREEN_OFF in output[output.rindex(ALT_SCREEN_ON) :], output[-3000:]
    assert b"\x1b[?1000l" in output  # mouse reports off
    text = output.decode(errors="replace")
    assert f"recording: {record}" in text and "throughput" in text, text[-3000:]
    recording = load(record)
    assert not recording.truncated
    starts = {e.req for e in recording.events if e.kind == K.REQUEST_START}
    ends = {e.req for e in recording.events if e.kind == K.REQUEST_END}
    assert starts and starts <= ends  # every request it started has its end


def test_in_a_background_process_group_the_run_is_headless(tmp_path: Path) -> None:
    """``timeout`` run from a script (no job control) puts its command in a process group of
    its own, in the terminal's background: the dashboard's first change to the terminal would
    stop the process (SIGTTOU), for good, since it is never brought to the foreground. The run
    is headless there instead: the progress bar and the report, exit code 0."""
    record = tmp_path / "run.jsonl"
    trace = OnTerminal([
        # The shell stays (no exec): timeout, its child, takes a new group.
        "sh", "-c", f"timeout -k 5 30 {sys.executable} -m tracer run "
        f"sample_apps.hello:asgi_app -n 50 --record {record}; exit $?",
    ])  # fmt: skip
    code = trace.finish(60)
    output = trace.output
    assert code == 0, output[-3000:]
    assert ALT_SCREEN_ON not in output
    text = output.decode(errors="replace")
    assert f"recording: {record}" in text and "throughput" in text, text[-3000:]


def test_an_interrupt_while_the_commands_load_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in the first instants, while ``trace`` imports its commands (before any handler
    of theirs runs), printed a KeyboardInterrupt traceback. Now "trace: interrupted", 130,
    as a Ctrl-C later on."""
    import tracer.cli

    def interrupted(name: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(tracer.cli.importlib, "import_module", interrupted)
    assert tracer.cli.main(["run", "--help"]) == 130
    out, err = capsys.readouterr()
    assert err == "trace: interrupted\n" and out == ""


def test_an_interrupt_as_python_starts_trace_is_one_line() -> None:
    """The same through ``python -m tracer``, interrupted (a SIGINT to itself) as it starts
    loading the commands."""
    code = (
        "import os, signal, importlib, sys\n"
        "real = importlib.import_module\n"
        "def interrupted(name, *args):\n"
        "    if name.startswith('tracer.cli.'):\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "    return real(name, *args)\n"
        "importlib.import_module = interrupted\n"
        "sys.argv = ['trace', 'run', '--help']\n"
        "import runpy\n"
        "runpy.run_module('tracer', run_name='__main__')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 130, done.stderr
    assert done.stderr == "trace: interrupted\n" and done.stdout == ""


def test_sigterm_closes_the_replay_and_gives_the_terminal_back(tmp_path: Path) -> None:
    """``trace replay`` (and the replay ``trace sim`` and ``trace demo`` open) on a terminal:
    SIGTERM closes it as ``q`` does, the alternate screen left and mouse reports off. It used
    to kill the process inside the UI, the terminal left in the alternate screen."""
    record = tmp_path / "run.jsonl"
    made = subprocess.run(
        [sys.executable, "-m", "tracer", "sim", "-n", "20", "--record", str(record), "--json"],
        capture_output=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    replay = OnTerminal([sys.executable, "-m", "tracer", "replay", str(record)])
    try:
        drawn = _wait_until(lambda: b"#20" in replay.output or b"#1 " in replay.output, 60)
        assert drawn, replay.output[-2000:]
        replay.process.send_signal(signal.SIGTERM)
    finally:
        code = replay.finish(30)
    output = replay.output
    assert code == 0, output[-3000:]
    assert ALT_SCREEN_OFF in output[output.rindex(ALT_SCREEN_ON) :], output[-3000:]
    assert b"\x1b[?1000l" in output  # mouse reports off


_IMPORT_WAITS = """
import pathlib
import time

pathlib.Path(__file__).with_name("importing").touch()  # the test's cue to send the signal
time.sleep(60)  # an import that takes its time (a slow dependency, a connection)


def app(environ, start_response):
    start_response("200 OK", [])
    return [b"ok"]
"""


@pytest.mark.parametrize("on_terminal", [False, True], ids=["headless", "terminal"])
def test_sigterm_while_the_app_imports_leaves_a_recording_of_no_requests(
    tmp_path: Path, on_terminal: bool
) -> None:
    """``timeout 1 trace run APP`` of an app whose import takes longer: SIGTERM used to end
    ``trace`` at once (Python's default), leaving an empty recording and nothing said. It is
    a stop, as during the load: the import is given up, the recording holds its header and a
    ``stopped`` mark, one line says so, and the exit code is a stop's, 0. On a terminal too
    (the import comes before the dashboard)."""
    (tmp_path / "waits.py").write_text(_IMPORT_WAITS)
    record = tmp_path / "run.jsonl"
    command = [
        sys.executable, "-m", "tracer", "run", "waits:app", "--app-dir", str(tmp_path),
        "-n", "10", "--record", str(record),
    ]  # fmt: skip
    if on_terminal:
        trace = OnTerminal(command)
        process = trace.process
    else:
        process = subprocess.Popen(
            [*command, "--headless"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    try:
        assert _wait_until((tmp_path / "importing").exists, 60)
        process.send_signal(signal.SIGTERM)
        if on_terminal:
            code = trace.finish(60)
            said = trace.output.decode(errors="replace")
        else:
            out, err = process.communicate(timeout=60)
            code = process.returncode
            said = err.decode() + out.decode()
            assert out.decode() == f"recording: {record}\n"
            assert err.decode().count("\n") == 1
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert code == 0, said
    assert "trace: the run was stopped (SIGTERM) before the load began" in said
    assert "Traceback" not in said and ALT_SCREEN_ON.decode() not in said  # no dashboard
    recording = load(record)
    assert recording.header["app"] == "waits:app"
    assert recording.header["load"]["requests"] == 10
    assert [(e.kind, e.data["label"]) for e in recording.events] == [(K.MARK, "stopped")]

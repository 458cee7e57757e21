"""``trace check`` while it imports the app: the app's own ``KeyboardInterrupt`` is a failed
import (exit 2), a real Ctrl-C is still one (exit 130), and a slow import is shown on a
terminal."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import pytest
from cli_helpers import app_file, trace_cli

from tracer.cli.check import _importing_shown

pytestmark = pytest.mark.timeout(60)

APP = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


def test_an_app_raising_keyboardinterrupt_at_import_is_a_failed_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``raise KeyboardInterrupt`` in the module: exit 2, the app's traceback and one line
    that says the app raised it, not "trace: interrupted"."""
    monkeypatch.chdir(tmp_path)
    spec = app_file(tmp_path, "raises_kbi", "raise KeyboardInterrupt('no config')\n" + APP)
    code, out, err = trace_cli(capsys, "check", spec)
    assert code == 2
    assert out == ""
    assert err.splitlines()[-1] == (
        f'trace: error: Importing APP "{spec}" failed: KeyboardInterrupt: no config '
        "(raised by the app, not a Ctrl-C)"
    )
    assert 'raises_kbi.py", line 1, in <module>' in err
    assert f"{os.sep}tracer{os.sep}" not in err  # the loader's and the tracer's frames left out


def test_a_factory_raising_keyboardinterrupt_is_a_failed_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same from ``--factory``: the factory is the app's code too."""
    monkeypatch.chdir(tmp_path)
    app_file(tmp_path, "factory_kbi", "def make():\n    raise KeyboardInterrupt\n")
    code, _, err = trace_cli(capsys, "check", "factory_kbi:make", "--factory")
    assert code == 2
    assert err.splitlines()[-1].endswith(
        "failed: KeyboardInterrupt (raised by the app, not a Ctrl-C)"
    )


def test_a_real_ctrl_c_during_the_import_still_interrupts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A SIGINT (here the module sends it to its own process, as the terminal would) while the
    import runs: "trace: interrupted", exit 130."""
    monkeypatch.chdir(tmp_path)
    source = (
        "import os, signal, threading\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "threading.Event().wait(30)  # the signal's handler raises here\n" + APP
    )
    spec = app_file(tmp_path, "ctrl_c_at_import", source)
    code, out, err = trace_cli(capsys, "check", spec)
    assert (code, out, err) == (130, "", "trace: interrupted\n")


def test_a_slow_import_is_shown_on_a_terminal() -> None:
    """On a terminal (a pty here) the line comes once ``after`` passed, while the import runs."""
    leader, follower = os.openpty()
    try:
        with open(follower, "w", encoding="utf-8", closefd=False) as terminal:
            with _importing_shown("slow.py:app", terminal, after=0.0):
                said = b""
                while not said.endswith(b"\n"):  # the import goes on until it was said
                    said += os.read(leader, 100)
        assert said.replace(b"\r\n", b"\n") == b"trace check: importing slow.py:app...\n"
    finally:
        os.close(leader)
        os.close(follower)


def test_a_slow_import_is_not_shown_on_a_pipe_or_file() -> None:
    """Not a terminal: nothing is written, and no thread is left."""
    before = threading.active_count()
    stream = io.StringIO()
    with _importing_shown("slow.py:app", stream, after=0.0):
        assert threading.active_count() == before
    assert stream.getvalue() == ""

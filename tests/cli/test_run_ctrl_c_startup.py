"""A Ctrl-C in the stretches of ``trace run``'s start-up that no stage's own handler answers.

Before the app's import (the recorder and its thread being set up) and between the import and
the load's handler, SIGINT met the handler ``trace`` started with: inherited ignored (a shell's
background job) it was dropped and the run went on to its end, exit 0. These send SIGINT at
those exact points to a child ``trace run`` started with SIGINT ignored: from the app's import
(a thread that waits for the import's handler to go), and from a ``sitecustomize`` that sends
it as ``claim_recording`` returns.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)

APP = """
import os, signal, threading, time

_during_import = signal.getsignal(signal.SIGINT)  # trace's handler while it imports the app


def _after_import():
    # The moment the import's handler is replaced (the import is over): Ctrl-C now.
    for _ in range(20000):
        if signal.getsignal(signal.SIGINT) is not _during_import:
            os.kill(os.getpid(), signal.SIGINT)
            return
        time.sleep(0.0005)


threading.Thread(target=_after_import, daemon=True).start()


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""

SITECUSTOMIZE = '''
import importlib.abc, importlib.util, os, signal, sys


class _Finder(importlib.abc.MetaPathFinder):
    """Sends SIGINT to this process as tracer.cli.paths.claim_recording returns."""

    def find_spec(self, name, path, target=None):
        if name != "tracer.cli.paths":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        real = spec.loader.exec_module

        def exec_module(module):
            real(module)
            claim = module.claim_recording

            def claimed(*args, **kwargs):
                target = claim(*args, **kwargs)
                os.kill(os.getpid(), signal.SIGINT)
                return target

            module.claim_recording = claimed

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _Finder())
'''


def _sigint_ignored() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a shell starts a background job


def _run(tmp_path: Path, app: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    record = tmp_path / "run.jsonl"
    # -z 60s: a Ctrl-C that is lost runs into the test's timeout instead of passing.
    command = [sys.executable, "-m", "tracer", "run", app, "--server", "threads"]
    command += ["--headless", "-z", "60s", "-c", "1", "--record", str(record)]
    return subprocess.run(
        command,
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=45,
        preexec_fn=_sigint_ignored,
    )


def test_ctrl_c_just_after_the_app_is_imported_ends_the_run(tmp_path: Path) -> None:
    (tmp_path / "ctrlc_app.py").write_text(APP)
    done = _run(tmp_path, "ctrlc_app:app", {})
    # Nothing of the load had started: interrupted (130), as during the import itself; or,
    # when it came once the load's stop existed, a stop (0) before any request ran.
    if done.returncode == 0:
        assert "stopping: finishing the recording" in done.stderr or "0/60 s" in done.stderr
    else:
        assert done.returncode == 130, done.stderr
        assert done.stderr.rstrip().endswith("trace: interrupted")
    assert "Traceback" not in done.stderr


def test_ctrl_c_while_the_recorder_is_set_up_interrupts(tmp_path: Path) -> None:
    (tmp_path / "plain_app.py").write_text(
        APP.split("threading.Thread")[0] + APP.split(".start()")[1]
    )
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE)
    pythonpath = os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    done = _run(tmp_path, "plain_app:app", {"PYTHONPATH": pythonpath})
    assert done.returncode == 130, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == ["trace: interrupted"]  # no "closing the recording ... failed" either
    assert not (tmp_path / "run.jsonl").exists()  # nothing ran: no recording left


COMMANDS_LOADING = '''
import importlib.abc, os, signal, sys


class _Finder(importlib.abc.MetaPathFinder):
    """Sends SIGINT to this process as the commands load (tracer.cli.run is imported)."""

    def find_spec(self, name, path, target=None):
        if name == "tracer.cli.run":
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None


sys.meta_path.insert(0, _Finder())
'''


def test_ctrl_c_while_the_commands_load_interrupts_with_sigint_ignored(tmp_path: Path) -> None:
    """SIGINT inherited ignored (``trace run … &`` in a script) and one sent while the
    commands' modules load: it waits for them to be loaded, then ends ``trace`` (130, one
    line), instead of being dropped and the run going on to its end with exit 0."""
    (tmp_path / "plain_app.py").write_text(
        APP.split("threading.Thread")[0] + APP.split(".start()")[1]
    )
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(COMMANDS_LOADING)
    pythonpath = os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    done = _run(tmp_path, "plain_app:app", {"PYTHONPATH": pythonpath})
    assert done.returncode == 130, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == ["trace: interrupted"]
    assert not (tmp_path / "run.jsonl").exists()

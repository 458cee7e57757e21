"""A Ctrl-C between the commands' load and ``trace run``'s own handler is never lost.

Once the commands were loaded (``ctrl_c_deferred``), SIGINT had the handler ``trace`` started
with until ``trace run`` installed its own (``CtrlCHeld``): while the command line was parsed
and while the server models were imported. Inherited ignored (a shell's background job,
``trace run … &``), a SIGINT there was dropped and the run went on to its end, exit 0; under
Python's own handler a ``KeyboardInterrupt`` was raised in the middle of those imports.

Each test sends SIGINT at one exact point of that stretch, from a ``sitecustomize`` that wraps
the function called there (or notes the module being imported), to a child ``trace run`` of a
plain app: with SIGINT ignored as a background job has it, and with Python's own handler.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)

APP = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""

# TRACE_TEST_SIGINT_AT: "module" sends SIGINT as that module is about to be imported;
# "module:name" or "module:Class.name" as that function is called (wrapped when the module is
# executed, so every later binding of it gets the wrapper). Then it sends no more.
SITECUSTOMIZE = """
import importlib.abc, importlib.util, os, signal, sys

_where = os.environ.get("TRACE_TEST_SIGINT_AT", "")
_module, _, _attr = _where.partition(":")


def _interrupt():
    os.kill(os.getpid(), signal.SIGINT)


def _wrapped(function):
    sent = []

    def interrupting(*args, **kwargs):
        if not sent:
            sent.append(True)
            _interrupt()
        return function(*args, **kwargs)

    return interrupting


class _Finder(importlib.abc.MetaPathFinder):
    busy = False  # finding the real spec, through the other finders

    def find_spec(self, name, path, target=None):
        if name != _module or self.busy:
            return None
        if not _attr:
            sys.meta_path.remove(self)
            _interrupt()
            return None
        self.busy = True
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self.busy = False
        real = spec.loader.exec_module

        def exec_module(module):
            # Removed only now: a find_spec alone (importlib.util.find_spec) executes nothing.
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            real(module)
            owner, _, function = _attr.rpartition(".")
            holder = getattr(module, owner) if owner else module
            setattr(holder, function, _wrapped(getattr(holder, function)))

        spec.loader.exec_module = exec_module
        return spec


if _module:
    sys.meta_path.insert(0, _Finder())
"""

POINTS = [
    "tracer.cli.parsing:OneLineParser.parse_args",  # the command line parsed
    "tracer.servers",  # the server models imported as trace run begins
    "tracer.cli.signals:sigterm_noted",  # trace run's first handler being installed
]


def _sigint_ignored() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a shell starts a background job


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)


HANDLERS: dict[str, Callable[[], None]] = {"ignored": _sigint_ignored, "python": _sigint_default}


def _run(
    tmp_path: Path, point: str, inherited: Callable[[], None]
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "plain_app.py").write_text(APP)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE)
    pythonpath = os.pathsep.join([str(hooks), *sys.path]).rstrip(os.pathsep)
    # -n 3 of one client: a SIGINT that is lost lets the run end normally, at once, exit 0.
    command = [sys.executable, "-m", "tracer", "run", "plain_app:app", "--server", "threads"]
    command += ["--headless", "-n", "3", "-c", "1", "--record", str(tmp_path / "run.jsonl")]
    return subprocess.run(
        command,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": pythonpath, "TRACE_TEST_SIGINT_AT": point},
        capture_output=True,
        text=True,
        timeout=45,
        preexec_fn=inherited,
    )


@pytest.mark.parametrize("inherited", sorted(HANDLERS))
@pytest.mark.parametrize("point", POINTS)
def test_ctrl_c_before_trace_run_handles_it_interrupts(
    tmp_path: Path, point: str, inherited: str
) -> None:
    """Nothing of the run had started: ``trace: interrupted``, 130, alone on stderr, and no
    recording left behind, whatever SIGINT's handler was when ``trace`` started."""
    done = _run(tmp_path, point, HANDLERS[inherited])
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert (done.returncode, lines) == (130, ["trace: interrupted"]), done.stderr
    assert not (tmp_path / "run.jsonl").exists()

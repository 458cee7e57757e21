"""``trace`` as it starts: a Ctrl-C in its first instants is one line, never a traceback.

The console script imports ``tracer.cli`` before ``main`` can catch a Ctrl-C; while the
``tracer`` package imported the recorder, the recording and asyncio there (most of the
command's first 0.1 s) a Ctrl-C was a traceback ending in ``tracer/__init__.py``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tracer

pytestmark = pytest.mark.timeout(120)

PACKAGE = str(Path(tracer.__file__).resolve().parent)

# What pip's console script for ``trace = "tracer.cli:main"`` runs, and ``python -m tracer``.
CONSOLE_SCRIPT = "import re, sys\nfrom tracer.cli import main\nsys.exit(main())\n"
STARTS = {
    "console script": [sys.executable, "-c", CONSOLE_SCRIPT],
    "python -m tracer": [sys.executable, "-m", "tracer"],
}

# From before Python runs any of ours to well after ``main`` has started (measured here: the
# interpreter's own start took 0.03-0.08 s, and the old imports of ``tracer`` ~0.05 s more).
DELAYS = [0.01 * step for step in range(0, 20, 2)]

FRAME = re.compile(r'^\s*File "([^"]+)", line \d+', re.MULTILINE)

# How Python says its own start-up failed, before it runs any of ours, with exit 1: a step of
# its initialisation (``init_import_site``, ``init_sys_streams``, ``init_fs_encoding``, ...:
# "Fatal Python error: <step>: ...") or, for ``python -m``, the import of runpy.
PYTHON_START_UP = re.compile(r"\A(Fatal Python error: init_\w+: |Could not import runpy module\n)")
INTERRUPTED = re.compile(r"^KeyboardInterrupt$", re.MULTILINE)
"""The end of the traceback it prints then (a list of extension modules may follow it)."""


def _interrupted_at(start: list[str], delay: float, record: Path) -> tuple[int, str]:
    """``trace run`` of the hello app, sent SIGINT ``delay`` seconds after it was started:
    its exit code and stderr. The process is in a session of its own, ended by its pid."""
    process = subprocess.Popen(
        [*start, "run", "sample_apps.hello:asgi_app", "-n", "20", "--headless"]
        + ["--record", str(record)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, err


def _project_traceback(err: str) -> str:
    """The traceback in ``err`` that passes through a module of the ``tracer`` package, or "".
    What Python prints while it starts, before any of ours runs, is not ours to answer."""
    if "Traceback" not in err:
        return ""
    frames = FRAME.findall(err)
    return (
        err if any(os.path.realpath(name).startswith(PACKAGE + os.sep) for name in frames) else ""
    )


@pytest.mark.parametrize("how", sorted(STARTS))
def test_ctrl_c_as_trace_starts_is_never_a_traceback_of_ours(how: str, tmp_path: Path) -> None:
    """SIGINT at several instants of the first 0.2 s of ``trace run``: each run ends as Python
    ends it before any of ours runs (killed by the signal, or its own start-up's error: its
    message and exit 1), as ``trace: interrupted`` (exit 130), or as a stopped run (exit 0);
    none prints a traceback through the ``tracer`` package, and none crashes (orjson's
    initialisation, interrupted, was a segmentation fault).

    The package's own two first imports (its version and errors) leave an instant of about a
    millisecond where a Ctrl-C can still only be Python's traceback: a delay that lands there
    is tried once more, and fails the test if it lands in the package's imports again, as
    delays within the old 0.05 s of imports did."""
    for step, delay in enumerate(DELAYS):
        code, err = _interrupted_at(STARTS[how], delay, tmp_path / f"{step}.jsonl")
        if _project_traceback(err):
            code, err = _interrupted_at(STARTS[how], delay, tmp_path / f"{step}-again.jsonl")
        seen = _project_traceback(err)
        assert not seen, f"{how}, SIGINT after {delay:.2f} s (exit {code}):\n{seen}"
        ends = {0, 130, -signal.SIGINT}
        if PYTHON_START_UP.match(err) and INTERRUPTED.search(err):
            # Python's own start-up interrupted (site, the standard streams, runpy for
            # ``python -m``, or any other step of it): its message, its exit 1
            ends.add(1)
        assert code in ends, f"{how}, SIGINT after {delay:.2f} s: exit {code}\n{err}"
        if code == 130:
            assert err.endswith("trace: interrupted\n"), err


def test_a_ctrl_c_while_the_commands_load_waits_for_them() -> None:
    """A Ctrl-C while ``trace`` imports its commands is raised once they are all loaded, then
    is ``trace: interrupted``, 130: raised in the middle of an import it crashed orjson's
    initialisation (a segmentation fault), or was lost in an import lock's callback."""
    code = (
        "import importlib, os, signal, sys\n"
        "real = importlib.import_module\n"
        "def interrupting(name, *args):\n"
        "    if name == 'tracer.cli.run':\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "    return real(name, *args)\n"
        "importlib.import_module = interrupting\n"
        "from tracer.cli import COMMANDS, main\n"
        "code = main(['summary', '--help'])\n"
        "print(all(name in sys.modules for name in COMMANDS.values()))\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (130, "True\n", "trace: interrupted\n")


def test_ctrl_c_deferred_raises_after_the_block() -> None:
    """Inside ``ctrl_c_deferred`` a SIGINT is noted and the block runs to its end; the
    ``KeyboardInterrupt`` comes after it."""
    from tracer.cli.signals import ctrl_c_deferred

    ran: list[str] = []
    with pytest.raises(KeyboardInterrupt), ctrl_c_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        ran.append("after the signal")
    assert ran == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

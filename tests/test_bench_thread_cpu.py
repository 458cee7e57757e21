"""``bench/thread_cpu.py``: the CPU by thread name that ``server_overhead.py --threads`` prints."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc")


def _python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new interpreter from the bench folder (its helpers importable)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=BENCH,
        timeout=60,
    )


def test_threads_started_after_naming_are_counted_by_their_names() -> None:
    done = _python(
        """
        import os, threading
        from thread_cpu import name_threads, thread_cpu_s
        name_threads()
        started, leave = threading.Event(), threading.Event()
        def run():
            started.set()
            leave.wait()
        thread = threading.Thread(target=run, name="gateway-tracer-writer")
        thread.start()
        started.wait()
        print(sorted(thread_cpu_s([os.getpid()])))
        leave.set()
        thread.join()
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['main', 'y-tracer-writer']"


def test_the_naming_path_names_the_threads_of_a_process_started_with_it() -> None:
    done = _python(
        """
        from thread_cpu import naming_path
        print(naming_path())
        """
    )
    assert done.returncode == 0, done.stderr
    folder = done.stdout.strip()
    assert not Path(folder).exists()  # removed when the process that made it exits
    made = _python(
        """
        import os, subprocess, sys
        from thread_cpu import naming_path
        child = '''
        import os, threading
        from thread_cpu import thread_cpu_s
        ready, leave = threading.Event(), threading.Event()
        def run():
            ready.set()
            leave.wait()
        t = threading.Thread(target=run, name="gateway-tracer-watchdog")
        t.start()
        ready.wait()
        print(sorted(thread_cpu_s([os.getpid()])))
        leave.set()
        '''
        env = {**os.environ, "PYTHONPATH": os.pathsep.join((naming_path(), os.getcwd()))}
        out = subprocess.run([sys.executable, "-c", child], env=env, capture_output=True,
                             text=True, timeout=60)
        print(out.stdout.strip(), out.stderr.strip())
        """
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == "['main', 'tracer-watchdog']"


def test_run_as_a_script_it_says_it_is_a_helper() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "thread_cpu.py")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "helper module" in done.stderr and done.stdout == ""

"""CPU per thread of a process group, by thread name, for ``bench/server_overhead.py --threads``.

Linux only (``/proc``). Python 3.11 does not give its threads' names to the OS, so
``name_threads`` makes every thread started afterwards in this process say its Python name
to the kernel (``prctl(PR_SET_NAME)``, the last 15 characters), and ``naming_path`` is a
folder to put first on a server's ``PYTHONPATH``: its ``sitecustomize`` does the same in the
server's processes. The main thread of each process is ``main``.
A helper module of the benchmarks; run as a script, it says so and exits 2.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

__all__ = ["name_threads", "naming_path", "thread_cpu_s"]

_NAMING = """\
import threading


def _install():
    try:
        import ctypes

        prctl = ctypes.CDLL(None).prctl
    except (ImportError, OSError, AttributeError):
        return
    inner = threading.Thread._bootstrap_inner

    def named(self):
        prctl(15, self.name[-15:].encode("utf-8", "replace"), 0, 0, 0)
        inner(self)

    threading.Thread._bootstrap_inner = named


_install()
"""


def naming_path() -> str:
    """A folder holding a ``sitecustomize`` that names each later thread after its Python
    name (made once per run, in the temporary folder; removed at exit)."""
    folder = tempfile.mkdtemp(prefix="thread-names-")
    Path(folder, "sitecustomize.py").write_text(_NAMING)
    import atexit
    import shutil

    atexit.register(shutil.rmtree, folder, True)
    return folder


def name_threads() -> None:
    """In this process: every thread started from now on says its name to the kernel."""
    namespace: dict[str, object] = {"threading": threading}
    exec(compile(_NAMING, "<thread names>", "exec"), namespace)


def thread_cpu_s(pids: Iterable[int]) -> dict[str, float]:
    """CPU seconds (user + system) so far of every thread of ``pids``, summed by name."""
    tick = os.sysconf("SC_CLK_TCK")
    total: dict[str, float] = {}
    for pid in pids:
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                stat = (task / "stat").read_text()
                name = "main" if task.name == str(pid) else (task / "comm").read_text().strip()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            total[name] = total.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return total


if __name__ == "__main__":
    print(
        "thread_cpu.py is a helper module of bench/server_overhead.py (--threads); "
        "run that script instead",
        file=sys.stderr,
    )
    raise SystemExit(2)

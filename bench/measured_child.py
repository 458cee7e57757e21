"""One ``trace`` command in a fresh process, with its time and its own peak resident memory.

    python bench/measured_child.py REPORT.json summary run.jsonl --json
    python bench/measured_child.py REPORT.json load run.jsonl      # tracer.load, not a command

The child runs the command in itself (``tracer.cli.main``, or ``tracer.load`` for ``load``) and
writes ``[seconds, peak MB, exit code]`` to ``REPORT.json``. The peak is the child's VmHWM
from ``/proc/self/status``: neither ``wait4``'s ``ru_maxrss`` nor the child's own
``RUSAGE_SELF`` will do on Linux, where a process started by fork and exec begins with its
parent's peak as the floor of its ``ru_maxrss`` (a bench process that grew to 60 MB reported
every child at 60 MB or more).

``measure(args)`` runs it from the bench scripts (run_capacity.py, export_cost.py).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["high_water_mb", "measure"]


def high_water_mb() -> float:
    """This process's own peak resident size in MB (VmHWM; ``ru_maxrss`` off Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(args: list[str]) -> tuple[float, float]:
    """(seconds, peak MB) of ``trace ARGS`` (or ``load PATH``) in a fresh process of its own.

    A command that fails ends the calling script with the child's stderr (``run_child``).
    """
    from bench_cli import run_child

    with tempfile.TemporaryDirectory() as folder:
        report = os.path.join(folder, "report.json")
        paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        run_child([sys.executable, __file__, report, *args], cwd=ROOT, env=env)
        seconds, peak_mb, _code = json.loads(Path(report).read_text())
    return seconds, peak_mb


def _main(report: str, args: list[str]) -> int:
    start = time.perf_counter()
    if args[0] == "load":
        import tracer

        tracer.load(args[1])
        code = 0
    else:
        from tracer.cli import main

        code = main(args)
    seconds = time.perf_counter() - start
    Path(report).write_text(json.dumps([seconds, high_water_mb(), code]))
    return code


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print("usage: measured_child.py REPORT.json TRACE-ARGS...", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(_main(sys.argv[1], sys.argv[2:]))

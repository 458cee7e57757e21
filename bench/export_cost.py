"""What reading and exporting a big recording costs: time and peak memory, side by side.

A simulated run of ``--requests`` requests (the ``loop`` model with thread hops, so every kind
of lane is drawn) is recorded once, then each command runs in a fresh process of its own, so
its peak RSS is its own: ``trace summary`` (streams the file: the floor), ``trace replay``'s
loader (``tracer.load``, which keeps every event) and ``trace export --to`` each target (which
read the file in two passes, ``tracer.export.stream``, and never load it). Medians of
``--repeats`` runs. Run: ``python bench/export_cost.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# One child: run the command line given as JSON, print (seconds, peak RSS in KB) as JSON.
CHILD = """
import json, resource, sys, time
sys.argv = ["trace"] + json.loads(sys.argv[1])
start = time.perf_counter()
if sys.argv[1] == "load":
    import tracer
    tracer.load(sys.argv[2])
else:
    from tracer.cli import main
    main(sys.argv[1:])
seconds = time.perf_counter() - start
print(json.dumps([seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss]))
"""


def measure(args: list[str]) -> tuple[float, float]:
    """(seconds, peak MB) of one command in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    seconds, peak_kb = json.loads(done.stdout.strip().splitlines()[-1])
    return seconds, peak_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        recording = os.path.join(folder, "run.jsonl")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tracer",
                "sim",
                "--model",
                "loop",
                "-c",
                "50",
                "-n",
                str(options.requests),
                "--cpu",
                "1ms",
                "--io",
                "exp:20ms",
                "--record",
                recording,
                "--headless",
            ],  # fmt: skip
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        size = os.path.getsize(recording) / 2**20
        print(f"{options.requests} simulated requests: {size:.1f} MB recording")
        rows: list[tuple[str, list[str], str | None]] = [
            ("trace summary (streamed)", ["summary", recording], None),
            ("tracer.load", ["load", recording], None),
        ]
        for target, suffix in (
            ("perfetto", ".json"),
            ("html", ".html"),
            ("svg", ".svg"),
            ("otlp-json", ".otlp.json"),
        ):
            out = os.path.join(folder, f"out{suffix}")
            rows.append(
                (f"export --to {target}", ["export", recording, "--to", target, "-o", out], out)
            )
        print(f"{'':26s} {'seconds':>8s} {'peak MB':>8s} {'x file':>7s} {'output MB':>10s}")
        for name, args, out in rows:
            runs = [measure(args) for _ in range(options.repeats)]
            seconds = statistics.median(r[0] for r in runs)
            peak = statistics.median(r[1] for r in runs)
            written = f"{os.path.getsize(out) / 2**20:10.1f}" if out else f"{'':10s}"
            print(f"{name:26s} {seconds:8.2f} {peak:8.0f} {peak / size:7.1f} {written}")


if __name__ == "__main__":
    main()

"""What reading and exporting a big recording costs: time and peak memory, side by side.

A simulated run of ``--requests`` requests (the ``loop`` model with thread hops, so every kind
of lane is drawn) is recorded once, then each command runs in a fresh process of its own, so
its peak RSS is its own: ``trace summary`` (streams the file: the floor), ``trace replay``'s
loader (``tracer.load``, which keeps every event) and ``trace export --to`` each target (which
read the file in two passes, ``tracer.export.stream``, and never load it). A child's peak is
its own VmHWM (``measured_child.py``; its ``ru_maxrss`` would start from this process's peak).
Medians of ``--repeats`` runs. Run: ``python bench/export_cost.py [--requests 20000]
[--repeats 3]``; counts must be positive, and a command that fails is shown with its stderr.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cli import Parser, positive_int, run_child  # noqa: E402
from measured_child import measure  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["main", "measure"]


def main() -> None:
    """Record one simulated run, then print each command's time and peak memory."""
    parser = Parser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=positive_int, default=20_000)
    parser.add_argument("--repeats", type=positive_int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        recording = os.path.join(folder, "run.jsonl")
        run_child(
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

"""Throughput of the in-process harness: traced hello world through each server model.

    python bench/run_capacity.py [--requests 5000] [--repeats 5] [--big 100000]

Each variant runs ``tracer.run.run`` (load generator + server model + shim + recorder streaming
to a file, as ``trace run`` does) several times; the median requests/s is printed with its ratio
to the target. Then one ``trace run -n BIG`` in a child process (the recording streams to disk;
the summary is a streaming digest), and ``trace summary`` of its recording, whose memory is the
digest's: a packed row per request. Each child's peak resident memory is its own VmHWM
(``measured_child.py``): ``wait4``'s ``ru_maxrss`` would start from this process's own peak.
Counts must be positive (``--big 0`` skips the memory runs); a usage mistake is one line and
exit code 2, a child that fails is shown with its stderr.
Targets on the 2-core reference machine: >= 5,000 req/s ASGI ``loop``, >= 3,000 WSGI ``threads``,
a 100,000-request run under 200 MB resident.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cli import Parser, non_negative_int, positive_int  # noqa: E402
from measured_child import measure  # noqa: E402

from tracer.digest import Digest  # noqa: E402
from tracer.recorder import Recorder  # noqa: E402
from tracer.run import RunConfig, run  # noqa: E402

VARIANTS = [
    # (label, APP, --server, target req/s or None)
    ("ASGI loop", "sample_apps.hello:asgi_app", "loop", 5000.0),
    ("WSGI threads (4)", "sample_apps.hello:application", "threads", 3000.0),
    ("WSGI wsgi-on-loop", "sample_apps.hello:application", "wsgi-on-loop", None),
    ("WSGI processes (2x2)", "sample_apps.hello:application", "processes", None),
]


def once(
    app: str, server: str, requests: int, concurrency: int, folder: str
) -> tuple[float, float]:
    """Requests per second of one run (client-side wall time) and CPU µs per request.

    The recording streams to disk. CPU time is this process's (all threads; the children's
    for ``processes`` are not counted): on a shared, busy machine it says what a run would
    reach with the CPU to itself, since the GIL lets one thread run Python at a time.
    """
    cpu = time.process_time()
    path = os.path.join(folder, f"{server}.jsonl")
    recorder = Recorder(path)
    recorder.subscribe(Digest().feed)
    extra = {"workers": 2, "threads": 2} if server == "processes" else {}
    config = RunConfig(app=app, server=server, requests=requests, concurrency=concurrency, **extra)
    result = run(config, recorder)
    recorder.close()
    cpu_us = (time.process_time() - cpu) * 1e6 / result.stats.done
    return result.stats.done / result.wall_s, cpu_us


def peak_rss_mb(requests: int, concurrency: int, folder: str) -> tuple[float, float]:
    """Peak RSS (MB) and wall seconds of `trace run -n requests --json` in a child process;
    its recording is ``big.jsonl`` in ``folder``."""
    record = os.path.join(folder, "big.jsonl")
    return _child_peak(
        ["run", "-n", str(requests), "-c", str(concurrency), "--json", "--record", record]
    )


def summary_peak_rss_mb(folder: str) -> tuple[float, float]:
    """Peak RSS (MB) and wall seconds of `trace summary big.jsonl --json` in a child process."""
    return _child_peak(["summary", os.path.join(folder, "big.jsonl"), "--json"])


def _child_peak(args: list[str]) -> tuple[float, float]:
    """Peak RSS (MB) and seconds of `trace ARGS` in a child process: the child's own VmHWM
    (``measured_child.py``), not ``wait4``'s ``ru_maxrss``, which on Linux starts from this
    process's peak."""
    seconds, peak_mb = measure(args)
    return peak_mb, seconds


def main() -> None:
    """Run every variant, print medians and ratios, then the big run's memory."""
    parser = Parser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=positive_int, default=5000)
    parser.add_argument("--concurrency", type=positive_int, default=50)
    parser.add_argument("--repeats", type=positive_int, default=5)
    parser.add_argument(
        "--big", type=non_negative_int, default=100_000, help="requests of the memory run (0: skip)"
    )
    args = parser.parse_args()
    print(
        f"{args.requests} requests, -c {args.concurrency}, median of {args.repeats}, recording streamed to disk"
    )
    print(
        f"{'variant':24} {'median req/s':>12} {'min':>8} {'max':>8} {'target':>8} {'ratio':>7} {'CPU us/req':>10} {'1e6/CPU':>8}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for label, app, server, target in VARIANTS:
            once(app, server, min(500, args.requests), args.concurrency, folder)  # warm up
            runs = [
                once(app, server, args.requests, args.concurrency, folder)
                for _ in range(args.repeats)
            ]
            rates = [rate for rate, _ in runs]
            median = statistics.median(rates)
            cpu = statistics.median(cpu for _, cpu in runs)
            goal = f"{target:8.0f}" if target else f"{'-':>8}"
            ratio = f"{median / target:7.2f}" if target else f"{'-':>7}"
            print(
                f"{label:24} {median:12.0f} {min(rates):8.0f} {max(rates):8.0f} {goal} {ratio} {cpu:10.0f} {1e6 / cpu:8.0f}"
            )
        if args.big:
            rss, wall = peak_rss_mb(args.big, args.concurrency, folder)
            print(
                f"trace run -n {args.big}: peak RSS {rss:.0f} MB (target < 200), {wall:.1f} s, {args.big / wall:.0f} req/s end to end"
            )
            rss, wall = summary_peak_rss_mb(folder)
            print(f"trace summary of its recording: peak RSS {rss:.0f} MB, {wall:.1f} s")


if __name__ == "__main__":
    main()

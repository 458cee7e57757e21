"""CPU cost per request of OpenTelemetry export: ours (spans built off the request path) vs
OpenTelemetry's own ASGI/WSGI middleware, counting every thread.

Run: ``python bench/otel_cost.py [--requests N] [--repeats R]``

``bench/overhead.py`` measures the wall time a request takes (the request path). This measures
the CPU time of the whole process for the same runs, the background work included: the
recorder draining events and ``tracer.otel`` building spans for ``instrument(app,
tracer_provider=...)``, and the BatchSpanProcessor for both (its exporter drops spans). Each
repeat ends by draining the recorder, so no work spills into the next variant. Medians of the
repeats, µs of CPU per request, and the ratio of each overhead to OpenTelemetry's.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import overhead  # noqa: E402  (the scenarios and wrappers of bench/overhead.py)


def _settle(app: Any) -> None:
    recorder = getattr(app, "recorder", None)
    if recorder is not None:
        recorder.drain()


def _cpu_per_request(scenario: Any, app: Any, requests: int) -> float:
    gc.collect()
    start = time.process_time()
    scenario.run(app, requests)
    _settle(app)
    return (time.process_time() - start) / requests * 1e6


VARIANTS = {
    "raw": overhead._wrap_raw,
    "shim alone": overhead._shim(checks=True),
    "instrument(tracer_provider=...)": overhead._wrap_instrument_otel,
    "OpenTelemetry middleware": overhead._wrap_otel,
}


def main(argv: list[str] | None = None) -> int:
    """Print CPU µs/request per variant and the ratios to OpenTelemetry's overhead."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"median of {args.repeats} repeats x {args.requests} requests, CPU µs/request")
    for scenario in overhead.SCENARIOS:
        apps = {name: wrap(scenario.app, scenario.interface) for name, wrap in VARIANTS.items()}
        for app in apps.values():
            scenario.run(app, min(200, args.requests))
            _settle(app)
        samples: dict[str, list[float]] = {name: [] for name in apps}
        for _ in range(args.repeats):
            for name, app in apps.items():
                samples[name].append(_cpu_per_request(scenario, app, args.requests))
        result = {name: statistics.median(values) for name, values in samples.items()}
        raw, otel = result["raw"], result["OpenTelemetry middleware"] - result["raw"]
        print(f"\n{scenario.name}")
        for name, value in result.items():
            line = f"  {name:<34} {value:9.2f}   overhead {value - raw:8.2f}"
            if name != "raw" and otel > 0:
                line += f"   ratio {(value - raw) / otel:.3f}"
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What protocol checking costs per request: the checkers alone, and the shim with and without.

Run: ``python bench/conformance_checks.py [--requests N] [--repeats R]``

Hello-world WSGI and ASGI requests, driven in-process. "hooks" feeds the checker directly with
the calls a shim makes for one request (construct, start_response/send..., finish): the pure
cost of checking. "shim checks=False/True" is ``tracer.instrument`` with checking off and on
(recording drained off the hot path), so the difference is what checking adds in practice.
Variants run round-robin within each repeat; the table shows medians of the repeats in
µs/request, and the checker's cost as a multiple of a reference loop (``sum`` of 10 ints, about
0.06 µs on an idle core), which survives a noisy shared machine better than absolute times.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tracer  # noqa: E402
from sample_apps.hello import asgi_app, wsgi_app  # noqa: E402
from tracer.conformance import AsgiChecker, WsgiChecker  # noqa: E402

HEADERS = [("Content-Type", "text/plain"), ("Content-Length", "13")]
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"13")],
}
BODY = {"type": "http.response.body", "body": b"Hello, World!"}
REQUEST = {"type": "http.request", "body": b"", "more_body": False}
ENVIRON = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.input": None}
SCOPE = {"type": "http", "method": "GET", "path": "/", "headers": [], "extensions": {}}


def _nothing(rule_id: str, message: str, **data: Any) -> None:
    raise AssertionError(f"hello world broke {rule_id}: {message}")


def wsgi_hooks(n: int) -> float:
    """Seconds for ``n`` requests' worth of WsgiChecker hooks."""
    t0 = time.perf_counter()
    for _ in range(n):
        checker = WsgiChecker(ENVIRON, _nothing)
        checker.start_response("200 OK", HEADERS, None)
        checker.body_item(b"Hello, World!")
        checker.finish(close_called=True, error=None)
    return time.perf_counter() - t0


def asgi_hooks(n: int) -> float:
    """Seconds for ``n`` requests' worth of AsgiChecker (http) hooks."""
    t0 = time.perf_counter()
    for _ in range(n):
        checker = AsgiChecker(SCOPE, _nothing)
        checker.receive(REQUEST)
        checker.send(START)
        checker.send(BODY)
        checker.finish(error=None)
    return time.perf_counter() - t0


def _recorder() -> tracer.Recorder:
    recorder = tracer.Recorder(keep=False, flush_interval=0.05)
    recorder.subscribe(lambda batch: None)
    return recorder


def wsgi_shim(checks: bool) -> Callable[[int], float]:
    """Seconds for ``n`` WSGI hello requests through the shim."""
    app = tracer.instrument(wsgi_app, recorder=_recorder(), checks=checks, interface="wsgi")

    def start_response(status: str, headers: list[Any], exc_info: Any = None) -> Any:
        return None

    def run(n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            body = app(dict(ENVIRON), start_response)
            for _chunk in body:
                pass
            body.close()
        return time.perf_counter() - t0

    return run


def asgi_shim(checks: bool) -> Callable[[int], float]:
    """Seconds for ``n`` ASGI hello requests through the shim (sequential)."""
    app = tracer.instrument(asgi_app, recorder=_recorder(), checks=checks, interface="asgi")

    async def receive() -> dict[str, Any]:
        return REQUEST

    async def send(message: Any) -> None:
        return None

    async def many(n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            await app(dict(SCOPE), receive, send)
        return time.perf_counter() - t0

    return lambda n: asyncio.run(many(n))


def reference(n: int) -> float:
    """Seconds for ``n`` ``sum()`` of a 10-item list: a yardstick for how loaded the machine is."""
    numbers = list(range(10))
    t0 = time.perf_counter()
    for _ in range(n):
        sum(numbers)
    return time.perf_counter() - t0


def main() -> None:
    """Run every variant round-robin, print medians and the checking overhead."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    variants: dict[str, Callable[[int], float]] = {
        "reference sum(10 ints)": reference,
        "wsgi hooks": wsgi_hooks,
        "asgi hooks": asgi_hooks,
        "wsgi shim checks=False": wsgi_shim(False),
        "wsgi shim checks=True": wsgi_shim(True),
        "asgi shim checks=False": asgi_shim(False),
        "asgi shim checks=True": asgi_shim(True),
    }
    results: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, run in variants.items():
            gc.collect()
            results[name].append(run(args.requests) / args.requests * 1e6)
    median = {name: statistics.median(times) for name, times in results.items()}
    print(f"{'variant':<26}{'µs/request':>12}")
    for name, value in median.items():
        print(f"{name:<26}{value:>12.2f}")
    for family in ("wsgi", "asgi"):
        off, on = median[f"{family} shim checks=False"], median[f"{family} shim checks=True"]
        print(
            f"{family}: checking adds {on - off:.2f} µs/request through the shim "
            f"({on / off:.2f}x); the checker alone costs {median[f'{family} hooks']:.2f} µs"
            f" = {median[f'{family} hooks'] / median['reference sum(10 ints)']:.0f}x the reference"
        )


if __name__ == "__main__":
    main()

"""What protocol checking costs per request: the checkers alone, and the shim with and without.

Run: ``python bench/conformance_checks.py [--requests 20000] [--repeats 5]`` (both positive)

Hello-world WSGI and ASGI requests, driven in-process. "hooks" feeds the checker directly with
the calls a shim makes for one request (construct, start_response/send..., finish): the pure
cost of checking. "shim checks=False/True" is ``tracer.instrument`` with checking off and on,
so the difference is what checking adds in practice. Each shim variant's recorder is drained
on the main thread at the end of its own run, inside its own time (its writer thread's timer
is set never to fire meanwhile), as ``bench/overhead.py`` does: a background drain would
otherwise bill part of one variant's recording to whichever variant ran when it woke. The
script prints, per shim variant, the events its drains moved and what was left undrained when
its time stopped (0).
Variants run round-robin within each repeat; the table shows medians of the repeats in
µs/request, and the checker's cost as a multiple of a reference loop (``sum`` of 10 ints, about
0.06 µs on an idle core), which survives a noisy shared machine better than absolute times.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cli import Parser, positive_int  # noqa: E402

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


class ShimRun:
    """Hello requests through ``tracer.instrument`` (checks on or off), timed with the drain
    of what they recorded: ``run(n)`` returns seconds for ``n`` requests."""

    def __init__(self, interface: str, checks: bool) -> None:
        # The writer thread's timer never fires during a run: the drain is ours, in run().
        self.recorder = tracer.Recorder(keep=False, flush_interval=3600)
        self.recorder.subscribe(self._count)
        self.events = 0
        """Events this variant's drains moved (to a subscriber that drops them)."""
        self.left_over = 0
        """Events still queued when a run's time stopped: drained by someone else's time."""
        self.interface = interface
        app = asgi_app if interface == "asgi" else wsgi_app
        self.app = tracer.instrument(
            app, recorder=self.recorder, checks=checks, interface=interface
        )

    def _count(self, batch: list[Any]) -> None:
        self.events += len(batch)

    def run(self, n: int) -> float:
        """Seconds for ``n`` requests and the drain of their events."""
        many = self._wsgi if self.interface == "wsgi" else self._asgi
        t0 = time.perf_counter()
        many(n)
        self.recorder.drain()
        elapsed = time.perf_counter() - t0
        self.left_over += self.recorder.backlog
        return elapsed

    def _wsgi(self, n: int) -> None:
        def start_response(status: str, headers: list[Any], exc_info: Any = None) -> Any:
            return None

        app = self.app
        for _ in range(n):
            body = app(dict(ENVIRON), start_response)
            for _chunk in body:
                pass
            body.close()

    def _asgi(self, n: int) -> None:
        async def receive() -> dict[str, Any]:
            return REQUEST

        async def send(message: Any) -> None:
            return None

        async def many() -> None:
            for _ in range(n):
                await self.app(dict(SCOPE), receive, send)

        asyncio.run(many())


def reference(n: int) -> float:
    """Seconds for ``n`` ``sum()`` of a 10-item list: a yardstick for how loaded the machine is."""
    numbers = list(range(10))
    t0 = time.perf_counter()
    for _ in range(n):
        sum(numbers)
    return time.perf_counter() - t0


def main() -> None:
    """Run every variant round-robin, print medians and the checking overhead."""
    parser = Parser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=positive_int, default=20000)
    parser.add_argument("--repeats", type=positive_int, default=5)
    args = parser.parse_args()
    shims = {
        f"{family} shim checks={checks}": ShimRun(family, checks)
        for family in ("wsgi", "asgi")
        for checks in (False, True)
    }
    variants: dict[str, Callable[[int], float]] = {
        "reference sum(10 ints)": reference,
        "wsgi hooks": wsgi_hooks,
        "asgi hooks": asgi_hooks,
        **{name: shim.run for name, shim in shims.items()},
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
    for name, shim in shims.items():
        print(
            f"{name}: {shim.events:,} events drained in its own time, "
            f"{shim.left_over:,} left to another variant's"
        )


if __name__ == "__main__":
    main()

"""Per-request overhead of the shims versus OpenTelemetry's own ASGI/WSGI middleware.

Run: ``python bench/overhead.py [--chunk 200] [--rounds 40] [--clock cpu|wall]``

``--chunk`` and ``--rounds`` must be positive; the concurrent scenario serves whole batches of
50 (``--chunk`` rounded to the nearest multiple, at least 50), and each scenario's heading says
how many requests a round served: the number its time is divided by.

In one process, a hello-world app is driven in-process (no sockets) raw, wrapped by our shim
(recording everything: steps, messages, hops, checks; the drain builds an ``Event`` for every
row and hands it to a subscriber that drops it) and wrapped by OpenTelemetry's middleware
(BatchSpanProcessor with an exporter that drops spans), for: ASGI sequential, ASGI 50
concurrent interleaved (the server's ``send`` yields to the loop, so the requests' steps
interleave), and WSGI.

How it is timed: the variants alternate in short rounds (``--chunk`` requests each, the order
turning every round) inside one event loop, so that a shared machine's slow and fast seconds
fall on all of them alike; each round ends with the variant's own background work (our
recorder's drain, OpenTelemetry's ``force_flush``) inside the round's time, so a background
thread never bills its work to whichever variant happens to run when it wakes. The default
clock is the CPU time of the whole process. The table shows medians over the rounds in
µs/request, the overhead over raw, and the median over the rounds of our overhead divided by
OpenTelemetry's (the target is <= 0.10).

Measured (three runs, a shared 2-core machine; overhead in µs/request and the ratio)::

    scenario                          shim (checks on)   checks off     OpenTelemetry
    ASGI sequential                   47-49  0.13        36-37  0.10    365-375
    ASGI 50 concurrent, interleaved   69-75  0.17-0.19   64-71  0.16    383-440
    WSGI                              47-49  0.23-0.25   39-40  0.20    190-209

    instrument(tracer_provider=...):  0.27-0.29, 0.31-0.33, 0.53-0.54

    2026-11-26, three runs (the machine's speed moved the µs, not the ratios):
    ratios 0.135-0.136 (checks off 0.099-0.104), 0.184-0.198 (0.158-0.167),
    0.236-0.245 (0.182-0.204); OpenTelemetry 289-406, 417-430, 147-198 µs;
    instrument(tracer_provider=...) 0.27, 0.33, 0.52

    2026-11-27, a machine ~2.5x faster, three quiet runs: ratios 0.139-0.158 (checks off
    0.116-0.123), 0.236-0.252 (0.193-0.205), 0.289-0.297 (0.232-0.239); OpenTelemetry
    133-177, 147-151, 65-67 µs; instrument(tracer_provider=...) 0.30-0.32, 0.41-0.42, 0.61-0.64

(The previous version of this script ran each variant for 2,000 requests in turn with the
background threads left to wake on their own timers; it printed 0.11, 0.19, 0.17, and
OpenTelemetry at 460/541/274 µs because part of our drain ran during its turns.)

To add a variant, append a ``Variant`` to ``VARIANTS``: a name
and a ``wrap(app, interface)`` returning ``Wrapped(app, flush)`` (or None when it cannot be
built).
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cli import Parser, positive_int  # noqa: E402

from sample_apps.hello import asgi_app, wsgi_app  # noqa: E402
from tracer.recorder import Recorder  # noqa: E402

Wrap = Callable[[Any, str], "Wrapped | None"]

# What a run is timed with (--clock): the CPU time of the whole process (the default), every
# thread included (the recorder's drain, OTel's export thread), which other load on a shared
# machine disturbs less, or wall time.
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}
_CLOCK: list[Callable[[], float]] = [time.process_time]


@dataclass(frozen=True)
class Wrapped:
    """An app to drive, and what finishes its background work (draining events, exporting
    spans): called at the end of each round, inside the round's time, so every variant pays
    for its own background threads instead of whichever variant runs when they wake."""

    app: Any
    flush: Callable[[], object] = lambda: None


@dataclass(frozen=True)
class Variant:
    """One way of running the app: ``wrap(app, interface)`` -> ``Wrapped``, or None."""

    name: str
    wrap: Wrap
    ours: bool = False
    """Counted as our overhead in the ratio column."""
    otel: bool = False
    """The OpenTelemetry reference the ratio divides by."""


def _dropping_recorder() -> Recorder:
    # The drain (Event objects built for a subscriber that drops them) runs at each round's
    # end (Wrapped.flush); its own thread's timer is set so that it never fires meanwhile.
    recorder = Recorder(keep=False, flush_interval=3600)
    recorder.subscribe(lambda batch: None)
    return recorder


def _wrap_raw(app: Any, interface: str) -> Wrapped:
    return Wrapped(app)


def _shim(checks: bool) -> Wrap:
    def wrap(app: Any, interface: str) -> Wrapped:
        from tracer.shim.asgi import AsgiShim
        from tracer.shim.wsgi import WsgiShim

        recorder = _dropping_recorder()
        shim = WsgiShim if interface == "wsgi" else AsgiShim
        return Wrapped(shim(app, recorder=recorder, checks=checks), recorder.drain)

    return wrap


def _otel_provider() -> Any:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class Drop(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Drop()))
    return provider


def _wrap_otel(app: Any, interface: str) -> Wrapped:
    provider = _otel_provider()
    if interface == "wsgi":
        from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware as Wsgi

        return Wrapped(Wsgi(app, tracer_provider=provider), provider.force_flush)
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware as Asgi

    return Wrapped(Asgi(app, tracer_provider=provider), provider.force_flush)


def _wrap_instrument_otel(app: Any, interface: str) -> Wrapped:
    import tracer

    provider = _otel_provider()
    shim = tracer.instrument(app, tracer_provider=provider, interface=interface)

    def flush() -> None:
        shim.recorder.drain()
        provider.force_flush()

    return Wrapped(shim, flush)


VARIANTS: list[Variant] = [
    Variant("raw", _wrap_raw),
    Variant("gateway-tracer shim", _shim(checks=True), ours=True),
    Variant("  same, checks off", _shim(checks=False), ours=True),
    Variant("instrument(tracer_provider=...)", _wrap_instrument_otel, ours=True),
    Variant("OpenTelemetry middleware", _wrap_otel, otel=True),
]

SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0", "spec_version": "2.3"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/",
    "raw_path": b"/",
    "query_string": b"",
    "root_path": "",
    "headers": [
        (b"host", b"127.0.0.1:8000"),
        (b"user-agent", b"bench/1.0"),
        (b"accept", b"*/*"),
    ],
    "client": ("127.0.0.1", 50000),
    "server": ("127.0.0.1", 8000),
}
REQUEST = {"type": "http.request", "body": b"", "more_body": False}


async def _one(app: Any, interleave: bool) -> None:
    async def receive() -> dict[str, Any]:
        return REQUEST

    async def send(message: dict[str, Any]) -> None:
        if interleave:
            await asyncio.sleep(0)  # a server's send that lets other requests run

    await app(dict(SCOPE), receive, send)


async def _asgi_sequential(app: Any, n: int) -> tuple[float, int]:
    start = _CLOCK[0]()
    for _ in range(n):
        await _one(app, False)
    return _CLOCK[0]() - start, n


async def _asgi_concurrent(app: Any, n: int, width: int = 50) -> tuple[float, int]:
    # Always whole batches of ``width``, so every request has width-1 others in flight: n
    # rounded to a multiple of width (at least one batch), and the time divided by those.
    batches = max(1, round(n / width))
    start = _CLOCK[0]()
    for _ in range(batches):
        await asyncio.gather(*(_one(app, True) for _ in range(width)))
    return _CLOCK[0]() - start, batches * width


WSGI_ENVIRON: dict[str, Any] = {
    "REQUEST_METHOD": "GET",
    "PATH_INFO": "/",
    "QUERY_STRING": "",
    "SERVER_NAME": "127.0.0.1",
    "SERVER_PORT": "8000",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "HTTP_HOST": "127.0.0.1:8000",
    "HTTP_USER_AGENT": "bench/1.0",
    "wsgi.url_scheme": "http",
    "wsgi.input": None,
    "wsgi.errors": sys.stderr,
    "wsgi.multithread": True,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
    "wsgi.version": (1, 0),
}


async def _wsgi(app: Any, n: int) -> tuple[float, int]:
    def start_response(status: str, headers: Any, exc_info: Any = None) -> Callable[..., None]:
        return lambda data: None

    start = _CLOCK[0]()
    for _ in range(n):
        body = app(dict(WSGI_ENVIRON), start_response)
        try:
            for _chunk in body:
                pass
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
    return _CLOCK[0]() - start, n


@dataclass(frozen=True)
class Scenario:
    """A way of driving the app; ``await run(app, n)`` returns the seconds it took and the
    requests it served (about n: the concurrent scenario serves whole batches of 50).

    Every scenario runs inside one event loop (the WSGI one never awaits), so that the
    variants' rounds alternate without starting a loop per round.
    """

    name: str
    interface: str
    app: Any
    run: Callable[[Any, int], Awaitable[tuple[float, int]]]


SCENARIOS = [
    Scenario("ASGI sequential", "asgi", asgi_app, _asgi_sequential),
    Scenario("ASGI 50 concurrent, interleaved", "asgi", asgi_app, _asgi_concurrent),
    Scenario("WSGI", "wsgi", wsgi_app, _wsgi),
]


@dataclass
class Result:
    """Per variant: median µs/request over the rounds, and the median over the rounds of
    its overhead divided by OpenTelemetry's overhead in the same round (None: n/a)."""

    us: dict[str, float | None]
    ratio: dict[str, float | None]
    served: int = 0
    """Requests each variant served in a round: what its time is divided by."""


async def _measure(scenario: Scenario, chunk: int, rounds: int) -> Result:
    wrapped = {v.name: v.wrap(scenario.app, scenario.interface) for v in VARIANTS}
    apps = {name: app for name, app in wrapped.items() if app is not None}
    runnable = list(apps)
    for name in runnable:  # warm up: imports, caches, first-time allocations
        await scenario.run(apps[name].app, min(200, chunk))
        apps[name].flush()
    samples: dict[str, list[float]] = {name: [] for name in runnable}
    served = 0
    gc.collect()
    for index in range(rounds):
        # Short rounds, every variant in each, the order turning: a shared machine's slow
        # and fast seconds fall on all of them alike. No gc.collect() between rounds: a
        # collection lands on whichever variant's allocations trigger it, as it would.
        turn = index % len(runnable)
        for name in runnable[turn:] + runnable[:turn]:
            driven = apps[name]
            seconds, served = await scenario.run(driven.app, chunk)
            start = _CLOCK[0]()
            driven.flush()
            seconds += _CLOCK[0]() - start
            samples[name].append(seconds / served * 1e6)
    reference = next(v.name for v in VARIANTS if v.otel)
    ratio: dict[str, float | None] = {}
    for variant in VARIANTS:
        if variant.ours and variant.name in samples and reference in samples:
            per_round = [
                (ours - raw) / (otel - raw)
                for ours, raw, otel in zip(
                    samples[variant.name], samples["raw"], samples[reference], strict=True
                )
                if otel > raw
            ]
            ratio[variant.name] = statistics.median(per_round) if per_round else None
    us = {name: statistics.median(samples[name]) if name in samples else None for name in wrapped}
    return Result(us, ratio, served)


def measure(scenario: Scenario, chunk: int, rounds: int) -> Result:
    """Median µs/request of each variant for ``scenario``, and our-to-OTel overhead ratios."""
    return asyncio.run(_measure(scenario, chunk, rounds))


def main(argv: list[str] | None = None) -> int:
    """Print the table of µs/request, overheads and our-to-OTel ratios."""
    parser = Parser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--chunk",
        type=positive_int,
        default=200,
        help="requests per variant per round (the concurrent scenario: the nearest multiple of 50)",
    )
    parser.add_argument("--rounds", type=positive_int, default=40, help="rounds (medians taken)")
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="cpu", help="time per request as wall or CPU"
    )
    args = parser.parse_args(argv)
    width = max(len(v.name) for v in VARIANTS) + 2
    _CLOCK[0] = CLOCKS[args.clock]
    print(
        f"{args.rounds} rounds x {args.chunk} requests per variant, variants alternating; "
        f"median {args.clock} µs/request; ratio: median over the rounds"
    )
    for scenario in SCENARIOS:
        result = measure(scenario, args.chunk, args.rounds)
        raw = result.us["raw"]
        print(f"\n{scenario.name}: {result.served} requests served per variant per round")
        for variant in VARIANTS:
            value = result.us[variant.name]
            if value is None or raw is None:
                print(f"  {variant.name:<{width}} n/a")
                continue
            line = f"  {variant.name:<{width}} {value:9.2f}   overhead {value - raw:8.2f}"
            ratio = result.ratio.get(variant.name)
            if ratio is not None:
                line += f"   ratio to OTel overhead {ratio:.3f}"
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

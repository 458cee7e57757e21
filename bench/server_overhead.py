"""Real-server overhead: uvicorn hello world, untraced vs traced, with the same client, in one run.

    python bench/server_overhead.py [--requests 4000] [--concurrency 50] [--repeats 5]

Part 1 picks the load client: three HTTP/1.1 keep-alive clients against *untraced* uvicorn
(50 connections): aiohttp, h11 on asyncio streams, and gateway-tracer's own callback client
(``tracer.client``, plain asyncio Protocols). The client must not be the bottleneck: target
>= 3,000 requests/s here.
Part 2: gateway-tracer's client against untraced uvicorn and against ``--server uvicorn``
(the shim in the server, every process streaming its events, merged live into the parent's
recording on disk), alternating, median of the repeats. Target: traced >= 0.9x untraced
(OpenTelemetry's ASGI middleware measured x0.32 here, shared/REFERENCE.md).

Measured here (2 shared cores, Python 3.11, uvicorn 0.54 with h11 and the asyncio loop,
medians of 5; the machine was shared with other work, so figures move between runs):

    client (untraced uvicorn, c=50)   aiohttp ~1,300 req/s   h11 streams ~1,700   tracer.client ~3,000-3,500
    tracer.client: untraced ~3,200 req/s, traced see the last run's output (ratio printed)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tracer.client import ClientConfig, run_client  # noqa: E402
from tracer.recorder import Recorder  # noqa: E402
from tracer.servers import ServerConfig  # noqa: E402
from tracer.servers.real.harness import HOST, ServerProcess, free_port  # noqa: E402
from tracer.servers.real.uvicorn import UvicornServer  # noqa: E402

APP = "sample_apps.hello:asgi_app"


def start_untraced() -> ServerProcess:
    """Plain uvicorn serving the hello app, no gateway-tracer inside."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", APP, "--host", HOST, "--port", str(port),
               "--log-level", "warning", "--no-access-log"]  # fmt: skip
    server = ServerProcess("uvicorn", command, port=port, cwd=ROOT)
    server.start()
    return server


async def _aiohttp(port: int, concurrency: int, requests: int) -> int:
    import aiohttp

    url = f"http://{HOST}:{port}/"
    left = requests
    done = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal left, done
            while left > 0:
                left -= 1
                async with session.get(url) as response:
                    await response.read()
                done += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done


async def _h11(port: int, concurrency: int, requests: int) -> int:
    import h11

    left = requests
    done = 0

    async def worker() -> None:
        nonlocal left, done
        reader, writer = await asyncio.open_connection(HOST, port)
        conn = h11.Connection(h11.CLIENT)
        while left > 0:
            left -= 1
            request = h11.Request(method="GET", target="/", headers=[("Host", f"{HOST}:{port}")])
            writer.write(conn.send(request) + conn.send(h11.EndOfMessage()))
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await reader.read(65536))
                elif isinstance(event, h11.EndOfMessage):
                    break
            conn.start_next_cycle()
            done += 1
        writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done


def _timed_async(fn: Callable[..., object], *args: int) -> float:
    start = time.perf_counter()
    done = asyncio.run(fn(*args))  # type: ignore[arg-type]
    return float(done) / (time.perf_counter() - start)  # type: ignore[arg-type]


def ours(port: int, concurrency: int, requests: int, recorder: Recorder | None = None) -> float:
    """Requests per second of gateway-tracer's client (recording its events when given one)."""
    config = ClientConfig(concurrency=concurrency, requests=requests)
    stats = run_client(HOST, port, config, recorder=recorder or Recorder())
    assert stats.errors == 0, stats.error_types
    return stats.rps


def main() -> None:
    """Run both parts and print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", "-c", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-clients", action="store_true", help="only part 2")
    args = parser.parse_args()
    n, c = args.requests, args.concurrency

    untraced = start_untraced()
    try:
        ours(untraced.port, c, 500)  # warm up
        if not args.skip_clients:
            print(f"Part 1: clients against untraced uvicorn, {n} requests, c={c}")
            variants: dict[str, Callable[[], float]] = {
                "aiohttp": lambda: _timed_async(_aiohttp, untraced.port, c, n),
                "h11 streams": lambda: _timed_async(_h11, untraced.port, c, n),
                "tracer.client": lambda: ours(untraced.port, c, n),
            }
            results: dict[str, list[float]] = {name: [] for name in variants}
            for _ in range(args.repeats):
                for name, run in variants.items():
                    results[name].append(run())
            for name, values in results.items():
                print(f"  {name:14s} median {statistics.median(values):7.0f} req/s  "
                      f"(runs: {', '.join(f'{v:.0f}' for v in values)})")  # fmt: skip

        print(f"Part 2: tracer.client, untraced vs traced uvicorn, {n} requests, c={c}")
        with tempfile.TemporaryDirectory() as tmp:
            recorder = Recorder(os.path.join(tmp, "run.jsonl"))
            traced = UvicornServer(ServerConfig(app_spec=APP, app_dir=ROOT), recorder)
            traced.start()
            try:
                ours(traced.port, c, 500, recorder)  # warm up
                plain: list[float] = []
                shimmed: list[float] = []
                for _ in range(args.repeats):
                    plain.append(ours(untraced.port, c, n))
                    shimmed.append(ours(traced.port, c, n, recorder))
            finally:
                traced.stop()
                recorder.close()
            merged = traced.merger.merged if traced.merger else 0
        a, b = statistics.median(plain), statistics.median(shimmed)
        print(f"  untraced  median {a:7.0f} req/s  (runs: {', '.join(f'{v:.0f}' for v in plain)})")
        print(f"  traced    median {b:7.0f} req/s  (runs: {', '.join(f'{v:.0f}' for v in shimmed)})")
        print(f"  traced / untraced = {b / a:.2f}  (target >= 0.9); server events merged: {merged}")
    finally:
        untraced.close()


if __name__ == "__main__":
    main()

"""Real-server overhead: uvicorn hello world, untraced vs traced, with the same client, in one run.

    python bench/server_overhead.py [--requests 4000] [--concurrency 50] [--repeats 5]
                                    [--loop asyncio|uvloop] [--skip-clients] [--decompose]
                                    [--threads]

Counts must be positive; a usage mistake is one line and exit code 2.

Every uvicorn here, traced or not, runs the same event loop: ``--loop asyncio`` by default (the
loop of the figures below; uvicorn's own default is uvloop wherever uvloop is installed).

Part 1 picks the load client: three HTTP/1.1 keep-alive clients against *untraced* uvicorn
(50 connections): aiohttp, h11 on asyncio streams, and gateway-tracer's own callback client
(``tracer.client``, plain asyncio Protocols), and the ratio of our client's CPU per request
to each other's. The client must not be the bottleneck: target >= 3,000 requests/s here.
Part 2: gateway-tracer's client against untraced uvicorn and against ``--server uvicorn``
(the shim in the server, every process streaming its events, merged live into the parent's
recording on disk), alternating, median of the repeats. Target: traced >= 0.9x untraced
(OpenTelemetry's ASGI middleware measured x0.32 here, shared/REFERENCE.md).

Part 3 (``--decompose``): server CPU per request of untraced uvicorn, of the shim with a
recorder that drops every event, and of ``--server uvicorn`` as ``trace run`` runs it.

``--threads`` (Linux) adds to part 2 the CPU per request of each thread, by name, of both
servers and of this process (the client's ``main``, the merge and the recording's writer):
the traced server's ``main`` (uvicorn and the shim), ``gateway-tracer-watchdog`` (the
blocking watchdog) and ``gateway-tracer-writer`` (its events to the parent), shown by their
last 15 characters.

Measured here (2 cores shared with other work, load average 4-6; Python 3.11, uvicorn 0.54
with h11 and the asyncio loop; 4,000 requests, c=50, medians of 5, run at 01:15 UTC):

    client vs untraced uvicorn   req/s   client CPU/req   one core could drive
    aiohttp                      1,269       302 µs           ~3,300 req/s
    h11 on asyncio streams       1,694       271 µs           ~3,700 req/s
    tracer.client                1,607       143 µs           ~7,000 req/s

    tracer.client -> uvicorn     req/s   server CPU/req   client(+merge) CPU/req
    untraced                     1,975       333 µs          133 µs
    traced (--server uvicorn)    1,232       482 µs          251 µs
    ratio                         0.62       0.69

    server CPU/req: untraced 315 µs; shim with a recorder that drops everything 468 (+153);
    --server uvicorn 473 (+158)

req/s is bounded by uvicorn (~330 µs of CPU per request on one core), not by the client: in a
quieter minute (01:13) the same client drove untraced uvicorn at 3,213 req/s (median of 5).

Since then the server processes stream the shims' packed rows as they are (no dict, no
``Event`` made in the server) and the parent's drain makes each ``Event`` once. Before and
after, alternating, ``--skip-clients --repeats 3 --decompose``, load average ~1, 02:00 UTC:

                                     before (3 runs)    after (4 runs)
    traced / untraced req/s          0.68 0.64 0.66     0.67 0.77 0.78 0.70
    server CPU: recording pipeline   +37 +103 +60 µs    -4 +32 +4 +15 µs (over a dropping recorder)
    client(+merge) CPU, traced       191 200 193 µs     185 175 158 190 µs
    server CPU: the shim itself      +82 to +148 µs per request, both

So the traced server now costs what the shim costs (~85-150 µs per request beside uvicorn's
~300); the recording pipeline is within the noise. The 0.9x target is not met: what is left is
the shim's per-request work (the cycle object, redacted headers for request.start, the send
and receive wrappers, the conformance checker, one coroutine step with two thread-CPU clock
reads). The request-id adapter costs ~1.6 µs per request (measured with a no-op app).

The dropping recorder of part 3 used to take every row through ``emit`` (an unpack and a
keyword call per event), overstating "the shim itself". It now drops rows at the sink. Run
of 2026-11-26 04:10 UTC (``--skip-clients --repeats 5 --decompose``): traced / untraced 0.62
(server CPU 280 -> 437 µs/request); part 3: untraced 317, shim with a dropping recorder 425
(+107), ``--server uvicorn`` 450 (+132) µs/request. So the shim's own work costs ~105 µs beside
uvicorn (about twice what the same work costs in ``bench/overhead.py``'s tight loop; the likely
reason, not proven, is that uvicorn's ~300 µs of code per request leaves the shim's code and
data cold in the caches), and the recording pipeline ~25 µs.

By thread (``--threads`` and the same split run alone, 2026-11-29 06:25-06:53 UTC, load
average 3-6 from other work, ranges of the medians of alternating runs): untraced uvicorn's
one thread 230-245 µs per request; traced, the loop's thread 290-300 (the shim with a
dropping recorder: 308), ``gateway-tracer-watchdog`` 15-21, ``gateway-tracer-writer`` 6-20
(4-8 since a busy process writes every 0.1 s: docs/decisions.md, "Speed"); in this process
the merge 8-12 and the recording's writer 31-42 (an ``Event`` and a JSON line per row). The
watchdog's and the writer's costs come per second, not per request: the in-process
``bench/overhead.py`` spreads them over ten times the requests, which is most of what it
does not see.

Since then the recorder's timed drains, when nobody takes ``Event`` objects (no subscriber,
no events kept: this script's recorder), write each line straight from its row, and a
slice's lines in one orjson call (``tracer.events.line_objects``, ``tracer.recording``):
the same bytes.
Before and after, alternating, 8 pairs of ``--threads --skip-clients --repeats 5 --requests
6000`` (2026-11-29 09:12-09:26 UTC, load average 5-9 from other work, on a machine where
untraced uvicorn's thread took 57-95 µs per request): the recording's writer thread in this
process 41.7 -> 31.7 µs per request (medians of the runs' medians; the per-pair ratio's
median 0.74), the merge 11.7 -> 10.0 (unchanged code: noise), this process's CPU per
request 118 -> 108 µs; traced / untraced req/s 0.42 -> 0.46, within the noise of that load.
The drain alone on rows of this script's run read back in frames of 800 (10 alternating
pairs, medians): 0.63x the CPU per row without a subscriber, 0.98x with one (``trace run``'s
digest, the dashboard: they take ``Event`` objects, which are made as before).

Since then part 2's traced recorder feeds a ``tracer.digest.Digest`` as ``trace run``'s does
(before, it had no subscriber, so its writer made no ``Event`` objects and fed no digest:
less parent CPU per request than ``trace run`` spends), and a drain that makes ``Event``
objects makes the lines' objects from the rows first and the events from them, and the
digest packs a request's record once both its ends are in (docs/decisions.md, "Where a
traced uvicorn's extra CPU goes").
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from bench_cli import Parser, positive_int  # noqa: E402
from thread_cpu import name_threads, naming_path, thread_cpu_s  # noqa: E402

from tracer.client import ClientConfig, run_client  # noqa: E402
from tracer.digest import Digest  # noqa: E402
from tracer.recorder import Recorder  # noqa: E402
from tracer.servers import ServerConfig  # noqa: E402
from tracer.servers.real.harness import HOST, ServerProcess, free_port, group_members  # noqa: E402
from tracer.servers.real.uvicorn import UvicornServer  # noqa: E402

APP = "sample_apps.hello:asgi_app"


LOOP = "asyncio"
"""The event loop of every uvicorn of the run (``--loop``)."""

THREADS = False
"""``--threads``: ``measured`` also keeps each run's CPU per request by thread."""

LAST_SPLIT: dict[str, float] = {}
"""With ``--threads``, the last measured run's CPU µs per request by thread name."""


def start_untraced() -> ServerProcess:
    """Plain uvicorn serving the hello app, no gateway-tracer inside."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", APP, "--host", HOST, "--port", str(port),
               "--log-level", "warning", "--no-access-log", "--loop", LOOP]  # fmt: skip
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


def group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of a process group."""
    total = 0
    for pid in group_members(pgid):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def measured(
    port: int, pgid: int, concurrency: int, requests: int, recorder: Recorder | None = None
) -> tuple[float, float, float]:
    """(req/s, server CPU µs per request, this process's CPU µs per request) of one run.

    CPU per request is what the machine's noise moves least: the server's tells its cost,
    this process's the client's (plus merging and writing the recording, when traced).
    """
    threads = _split(pgid) if THREADS else None
    server0, self0 = group_cpu_s(pgid), time.process_time()
    rps = ours(port, concurrency, requests, recorder)
    server_us = (group_cpu_s(pgid) - server0) / requests * 1e6
    self_us = (time.process_time() - self0) / requests * 1e6
    if threads is not None:
        after = _split(pgid)
        LAST_SPLIT.clear()
        LAST_SPLIT.update({k: (v - threads.get(k, 0.0)) / requests * 1e6 for k, v in after.items()})
    return rps, server_us, self_us


def _split(pgid: int) -> dict[str, float]:
    """CPU seconds so far by thread name: the server's as ``server <name>``, ours as ``client+``."""
    server = thread_cpu_s(group_members(pgid))
    ours_ = thread_cpu_s([os.getpid()])
    return {**{f"server {k}": v for k, v in server.items()},
            **{f"client+ {k}": v for k, v in ours_.items()}}  # fmt: skip


def _print_threads(runs: list[dict[str, float]], indent: str) -> None:
    names = sorted({name for run in runs for name in run}, key=lambda n: (n.startswith("c"), n))
    for name in names:
        values = [run.get(name, 0.0) for run in runs]
        print(f"{indent}{name:32s} {statistics.median(values):5.1f} µs/req  "
              f"(runs: {', '.join(f'{v:.1f}' for v in values)})")  # fmt: skip


def compare_clients(port: int, c: int, n: int, repeats: int) -> None:
    """Part 1: the three clients against the same untraced server, interleaved.

    Besides req/s (bounded by the server on this machine), each client's own CPU per request:
    1e6 / that is how many requests per second one core could drive.
    """
    print(f"Part 1: clients against untraced uvicorn, {n} requests, c={c}")
    variants: dict[str, Callable[[], float]] = {
        "aiohttp": lambda: _timed_async(_aiohttp, port, c, n),
        "h11 streams": lambda: _timed_async(_h11, port, c, n),
        "tracer.client": lambda: ours(port, c, n),
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, run in variants.items():
            before = time.process_time()
            rps = run()
            results[name].append((rps, (time.process_time() - before) / n * 1e6))
    cpus: dict[str, float] = {}
    for name, values in results.items():
        rps = statistics.median(v[0] for v in values)
        cpu = cpus[name] = statistics.median(v[1] for v in values)
        runs = ", ".join(f"{v[0]:.0f}" for v in values)
        print(
            f"  {name:14s} median {rps:6.0f} req/s  client CPU {cpu:4.0f} µs/req "
            f"(one core: {1e6 / cpu:6.0f} req/s)  (runs: {runs})"
        )
    for other in ("aiohttp", "h11 streams"):
        print(
            f"  tracer.client / {other} client CPU per request = "
            f"{cpus['tracer.client'] / cpus[other]:.2f}"
        )


def compare_tracing(untraced: ServerProcess, c: int, n: int, repeats: int) -> None:
    """Part 2: the same client against untraced and traced uvicorn, interleaved."""
    print(f"Part 2: tracer.client, untraced vs traced uvicorn, {n} requests, c={c}")
    assert untraced.pgid is not None
    plain: list[tuple[float, float, float]] = []
    shimmed: list[tuple[float, float, float]] = []
    splits: dict[str, list[dict[str, float]]] = {"untraced": [], "traced": []}
    with tempfile.TemporaryDirectory() as tmp:
        recorder = Recorder(os.path.join(tmp, "run.jsonl"))
        # As ``trace run`` (tracer/cli/run_session.py): its summary's digest takes every
        # batch as ``Event`` objects, so the recording's writer makes them.
        recorder.subscribe(Digest(recorder.header).feed)
        traced = UvicornServer(
            ServerConfig(app_spec=APP, app_dir=ROOT, options={"loop": LOOP}), recorder
        )
        traced.start()
        try:
            assert traced.process is not None and traced.process.pgid is not None
            ours(traced.port, c, 500, recorder)  # warm up
            for _ in range(repeats):
                plain.append(measured(untraced.port, untraced.pgid, c, n))
                splits["untraced"].append(dict(LAST_SPLIT))
                shimmed.append(measured(traced.port, traced.process.pgid, c, n, recorder))
                splits["traced"].append(dict(LAST_SPLIT))
        finally:
            traced.stop()
            recorder.close()
        merged = traced.merger.merged if traced.merger else 0
    medians = {}
    for name, runs in (("untraced", plain), ("traced", shimmed)):
        rps, server_us, self_us = (statistics.median(column) for column in zip(*runs, strict=True))
        medians[name] = (rps, server_us)
        print(
            f"  {name:9s} median {rps:6.0f} req/s  server CPU {server_us:4.0f} µs/req  "
            f"client(+merge) CPU {self_us:4.0f} µs/req  "
            f"(runs: {', '.join(f'{run[0]:.0f}' for run in runs)})"
        )
    (a, cpu_a), (b, cpu_b) = medians["untraced"], medians["traced"]
    print(f"  traced / untraced throughput = {b / a:.2f}  (target >= 0.9)")
    print(
        f"  untraced / traced server CPU per request = {cpu_a / cpu_b:.2f}  (same ratio, less noise)"
    )
    print(f"  server events merged: {merged}")
    if THREADS:
        for name, split in splits.items():
            print(f"  CPU by thread, {name} (medians):")
            _print_threads(split, "    ")


def decompose(c: int, n: int, repeats: int) -> None:
    """Part 3: server CPU per request of untraced uvicorn, the shim with a recorder that drops
    every event (bench/server_variants.py), and ``--server uvicorn`` as ``trace run`` runs it."""
    print(f"Part 3: where the traced server's time goes, {n} requests, c={c}")
    here = os.path.dirname(os.path.abspath(__file__))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((here, ROOT))}
    servers: dict[str, tuple[int, int]] = {}
    started: list[ServerProcess] = []
    for name, app in (("untraced", APP), ("shim, recorder drops all", "server_variants:shim_null")):
        port = free_port()
        command = [sys.executable, "-m", "uvicorn", app, "--host", HOST, "--port", str(port),
                   "--log-level", "warning", "--no-access-log", "--loop", LOOP]  # fmt: skip
        server = ServerProcess("uvicorn", command, port=port, cwd=ROOT, env=env)
        server.start()
        started.append(server)
        assert server.pgid is not None
        servers[name] = (port, server.pgid)
    recorder = Recorder()
    traced = UvicornServer(
        ServerConfig(app_spec=APP, app_dir=ROOT, options={"loop": LOOP}), recorder
    )
    traced.start()
    try:
        assert traced.process is not None and traced.process.pgid is not None
        servers["--server uvicorn (trace run)"] = (traced.port, traced.process.pgid)
        results: dict[str, list[float]] = {name: [] for name in servers}
        for port, _ in servers.values():
            ours(port, c, 300)  # warm up
        for _ in range(repeats):
            for name, (port, pgid) in servers.items():
                results[name].append(measured(port, pgid, c, n, recorder)[1])
    finally:
        traced.stop()
        for server in started:
            server.close()
    base = statistics.median(results["untraced"])
    for name, values in results.items():
        cpu = statistics.median(values)
        print(f"  {name:30s} server CPU {cpu:4.0f} µs/req  (+{cpu - base:4.0f})")


def main() -> None:
    """Run both parts and print medians and ratios."""
    parser = Parser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=positive_int, default=4000)
    parser.add_argument("--concurrency", "-c", type=positive_int, default=50)
    parser.add_argument("--repeats", type=positive_int, default=5)
    parser.add_argument("--skip-clients", action="store_true", help="leave out part 1")
    parser.add_argument("--decompose", action="store_true", help="also part 3")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio",
                        help="every uvicorn's event loop (default asyncio)")  # fmt: skip
    parser.add_argument("--threads", action="store_true",
                        help="part 2 also prints CPU per request by thread (Linux)")  # fmt: skip
    args = parser.parse_args()
    global LOOP, THREADS
    LOOP = args.loop
    THREADS = args.threads
    if args.threads:
        if not os.path.isdir("/proc/self/task"):
            parser.error("--threads reads /proc: Linux only")
        name_threads()
        # Every server started from here imports it: plain uvicorn through the environment,
        # ``--server uvicorn`` through our sys.path (its PYTHONPATH is made of it).
        naming = naming_path()
        sys.path.append(naming)
        os.environ["PYTHONPATH"] = os.pathsep.join(
            filter(None, (naming, os.environ.get("PYTHONPATH")))
        )
    untraced = start_untraced()
    try:
        ours(untraced.port, args.concurrency, 500)  # warm up
        if not args.skip_clients:
            compare_clients(untraced.port, args.concurrency, args.requests, args.repeats)
        compare_tracing(untraced, args.concurrency, args.requests, args.repeats)
        if args.decompose:
            decompose(args.concurrency, args.requests, args.repeats)
    finally:
        untraced.close()


if __name__ == "__main__":
    main()

"""``simulate(config, recorder=...)``: run one simulation, optionally into a recording.

Wires the pieces: an engine, the server model of ``config.model``, an arrival process, the
stats every run keeps and, when a ``Recorder`` is given, the emitter that fills it. The header
of a simulated recording has a fixed clock and no ``host`` (the machine that ran it), so the
same seed gives byte-identical files on any machine.
Imports only ``tracer.recorder``, ``tracer.recording``, ``tracer.summary``, ``tracer.gc_pause``
and ``sim`` modules.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Callable, Sequence
from typing import Any

from sim.arrivals import Arrivals, ClosedLoop, OpenLoop, Request, RequestSource
from sim.config import SimConfig
from sim.emit import Emitter
from sim.engine import Engine
from sim.models import MODELS
from sim.result import SimResult, Stats
from tracer.gc_pause import paused_gc
from tracer.recorder import Recorder
from tracer.recording import make_header
from tracer.summary import summarize_spans

__all__ = ["simulate", "sim_header", "SIM_EPOCH_NS"]

SIM_EPOCH_NS = 1_764_115_200_000_000_000
"""Wall time given to t=0 of every simulation (2025-11-26 00:00 UTC): fixed for reproducibility."""


def sim_header(config: SimConfig, model: Any) -> dict[str, Any]:
    """The header fields that describe a simulation."""
    server = model.server_header()
    if config.cpus is not None:
        # The machine's cores are the simulation's, not the host's (``host.cpus``); absent
        # means unlimited, as every simulation was before cores were modelled.
        server["cpus"] = config.cpus
    if config.connection_limit is not None:
        # The limit changes who is served when (a waitress model): a file says it had one.
        server["connection_limit"] = config.connection_limit
    header = {
        "source": "simulated",
        "app": f"sim:{config.workload.name}",
        "interface": model.interface,
        "server": server,
        "load": config.load_header(),
        "clock": {"monotonic_ns": 0, "unix_ns": SIM_EPOCH_NS},
    }
    if config.model == "loop":
        # Only the loop model records blocks; its file says which steps were long enough.
        header["block_threshold_ns"] = config.block_threshold_ns
    return header


MACHINE_FIELDS = ("host",)
"""Header fields a real run's file has that describe the machine it ran on. A simulation has
none: its machine is ``server`` (``server.cpus``), so they are left out, and the same seed
gives the same file whatever machine or Python runs it. No reader of a simulated file uses
them: a report names its cores from ``server.cpus``, and a demo's note about the machine's
cores is made for real runs only."""


def _drop_machine(header: dict[str, Any]) -> dict[str, Any]:
    """``header`` without ``MACHINE_FIELDS`` (changed in place, and returned)."""
    for name in MACHINE_FIELDS:
        header.pop(name, None)
    return header


PROJECTION_SLACK = 1.1
"""How far past the bound a closed loop's projected count must be for the run to stop early:
its rate, measured over thousands of requests past the start, holds to a few percent (less
closely for heavy-tailed durations, whose rare long ones a sample may lack)."""


def _bounded(
    submit: Callable[[Request], Any],
    engine: Engine,
    source: RequestSource,
    config: SimConfig,
    *,
    recorded: bool,
) -> Callable[[Request], Any]:
    """``submit`` that raises ``TooManyRequests`` once the run has made more requests than
    ``config.request_limit`` allows: a ``-z`` run's count is known only as it runs (a closed
    loop's depends on how soon its requests end; zero-time ones never let the clock reach -z),
    and would otherwise grow until the memory ran out.

    A closed loop stops well before that when it is on course to pass the bound: each time
    its count doubles (from 1/64 of the bound, and two requests per client, past the burst
    at t=0), the rate since that start is carried on to -z. So a run that would pass
    the bound ten times over stops after a few percent of it (seconds, and a recording of
    tens of MB), not after simulating, keeping and writing all of it."""
    most = config.request_limit(recorded=recorded)
    duration = config.duration_ns
    first = max(most // 64, 2 * config.concurrency, 1)
    projecting = config.rate is None and duration is not None and 2 * first <= most
    start: list[int] = []  # the count and time where the rate is measured from
    check_at = [first if projecting else most + 1]

    def project() -> None:
        made, now = source.made, engine.now
        if made > most:
            raise config.too_many_requests(now_ns=now, recorded=recorded)
        if not start or now == start[1]:  # no time passed yet: measure from here
            start[:] = [made, now]
        else:
            assert duration is not None
            rate = (made - start[0]) / (now - start[1])
            projected = made + rate * max(0, duration - now)
            if projected > most * PROJECTION_SLACK:
                raise config.projection_error(  # the request at hand is not sent
                    made=made - 1, now_ns=now, projected=projected, recorded=recorded
                )
        check_at[0] = 2 * made if 2 * made <= most else most + 1

    def bounded(req: Request) -> Any:
        if source.made >= check_at[0]:
            project()
        return submit(req)

    return bounded


def simulate(config: SimConfig, *, recorder: Recorder | None = None) -> SimResult:
    """Run the simulation ``config`` describes; emit its events into ``recorder`` if given.

    Without a recorder only per-request times are kept (the fast path). The recorder's header
    is filled in (source "simulated", app, interface, server, load, a fixed clock) and has no
    ``host``, which would name the machine that ran it; the caller closes the recorder. A bad
    config is a ``UsageError`` before anything runs; an event due past 2^63 ns stops the run
    with ``ClockOverflow``, and a ``-z`` run that makes more requests than
    ``config.request_limit`` allows stops with ``TooManyRequests``.
    """
    recorded = recorder is not None
    config.check(recorded=recorded)
    engine = Engine()
    stats = Stats()
    emitter: Emitter | None = None
    model_class = MODELS[config.model]
    if recorder is not None:
        emitter = Emitter(recorder, interface=model_class.interface)  # type: ignore[attr-defined]
    arrivals: Arrivals
    done: Callable[[Request], None]
    if config.rate is None:

        def done(req: Request) -> None:
            stats.add(req)
            arrivals.done(req)

    else:
        done = stats.add  # an open loop does not care when a request ends

    sessions: list[int] = []
    if any(route.websocket for route in config.workload.routes):
        # WebSocket sessions end with status 101, not 200: count them for the summary (only
        # here, so a run without them keeps its fast path).
        counted = done

        def counting(req: Request) -> None:
            if req.route.websocket:
                sessions.append(req.id)
            counted(req)

        done = counting

    model = model_class(engine, config, emitter, done)
    header = sim_header(config, model)
    if recorder is not None:
        recorder.header.update(header)
        _drop_machine(recorder.header)
    source = RequestSource(config.workload, random.Random(f"work:{config.seed}"))
    submit: Callable[[Request], Any] = model.submit
    if config.requests is None:
        submit = _bounded(submit, engine, source, config, recorded=recorded)
    common: dict[str, Any] = {
        "requests": config.requests,
        "duration_ns": config.duration_ns,
        "rng": random.Random(f"arrivals:{config.seed}"),
    }
    if config.rate is not None:
        arrivals = OpenLoop(engine, source, submit, rate=config.rate, **common)
    else:
        arrivals = ClosedLoop(
            engine,
            source,
            submit,
            clients=config.concurrency,
            think=config.think,
            hang_up=getattr(model, "hang_up", None),
            **common,
        )
    arrivals.start()
    with paused_gc():
        engine.run()
    stats.blocked_ns = getattr(model, "blocked_ns", 0)
    gils = getattr(model, "gils", None) or [getattr(model, "gil", None)]
    extra: dict[str, Any] = {}
    pools = getattr(model, "pools", None) or []
    if pools:  # the loop's: threads made over all its processes, the longest token queue
        extra = {
            "pool_threads": sum(len(pool.threads) for pool in pools),
            "pool_max_waiting": max(pool.max_waiting for pool in pools),
        }
    summary = stats.summary(config.load_header())
    if sessions:
        status = {"101": len(sessions), "200": summary["completed"] - len(sessions)}
        summary["status"] = {code: count for code, count in status.items() if count}
        # Every simulated session ends with the client's normal close, as its recording says.
        summary["ws_close_codes"] = {"1000": len(sessions)}
    waits = pools[0].waits if len(pools) == 1 else array("q", (w for p in pools for w in p.waits))
    summary.update(_pool_wait_summary(waits))
    return SimResult(
        config=config,
        summary=summary,
        header=dict(recorder.header)
        if recorder is not None
        else _drop_machine(make_header(**header)),
        sim_ns=engine.now,
        engine_steps=engine.steps,
        events=emitter.count if emitter is not None else 0,
        max_queue=getattr(model, "max_queue", 0) or getattr(model, "max_ready", 0),
        gil_switches=sum(gil.switches for gil in gils if gil is not None),
        extra=extra,
        stats=stats,
    )


def _pool_wait_summary(waits: Sequence[int]) -> dict[str, Any]:
    """``thread_pool_wait_ms`` of the summary, from how long each hop waited for a pool thread
    (ns), made by the very code that makes it of a recording's ``queued_ns`` (the summary of
    spans, given none): empty when no hop ran, as a recording without hops has none."""
    if not waits:
        return {}
    made = summarize_spans({}, first=0, last=0, blocked_ns=0, violations=0, pool_waits=waits)
    return {"thread_pool_wait_ms": made["thread_pool_wait_ms"]}

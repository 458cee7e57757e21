"""The simulator against reality: the same workload through ``trace run`` and ``trace sim``.

sample_apps.io_bound sleeps ``?ms`` (``time.sleep`` in WSGI, ``asyncio.sleep`` in ASGI); the
simulation is ``--io`` of the same duration. Throughput and median latency must agree within 15%.
"""

from __future__ import annotations

import pytest

from sim import SimConfig, simulate
from sim.dist import Fixed
from sim.workload import inline_workload
from tracer.recorder import Recorder
from tracer.run import RunConfig, run
from tracer.summary import summarize

SLEEP_MS = 40
REQUESTS = 200
CLIENTS = 8


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "model,app,threads",
    [
        ("threads", "sample_apps.io_bound:wsgi_app", 4),
        ("loop", "sample_apps.io_bound:asgi_app", None),
    ],
)
def test_sim_agrees_with_a_real_run(model: str, app: str, threads: int | None) -> None:
    """rps and p50 latency of the real in-process model and of its simulation agree within 15%."""
    recorder = Recorder()
    run(
        RunConfig(
            app=app,
            server=model,
            threads=threads,
            concurrency=CLIENTS,
            requests=REQUESTS,
            paths=(f"/?ms={SLEEP_MS}",),
        ),
        recorder,
    )
    real = summarize(recorder.recording())
    simulated = simulate(
        SimConfig(
            model=model,
            threads=threads or 4,
            concurrency=CLIENTS,
            requests=REQUESTS,
            workload=inline_workload(io=Fixed(SLEEP_MS * 1_000_000)),
        )
    ).summary
    assert real["completed"] == simulated["completed"] == REQUESTS
    assert real["rps"] == pytest.approx(simulated["rps"], rel=0.15)
    assert real["latency_ms"]["p50"] == pytest.approx(simulated["latency_ms"]["p50"], rel=0.15)

"""The simulator starts from ``trace run``'s server defaults: the same scenario, run and
simulated, has the same threads per process unless told otherwise."""

from __future__ import annotations

import pytest

from sim import SimConfig, simulate
from sim.dist import Fixed
from sim.workload import inline_workload
from tracer.recorder import Recorder
from tracer.servers import processes, threads

MS = 1_000_000


def test_the_default_threads_are_trace_runs() -> None:
    """``threads``: 4 as the ``threads`` model (waitress); ``processes``: 1 per process as the
    ``processes`` model (gunicorn's sync worker), not 4."""
    from sim.config import DEFAULT_THREADS

    assert DEFAULT_THREADS == {
        "threads": threads.DEFAULT_THREADS,
        "processes": processes.DEFAULT_THREADS,
    }
    assert SimConfig(model="threads").threads_per_process == 4
    assert SimConfig(model="processes").threads_per_process == 1
    assert SimConfig(model="processes", threads=3).threads_per_process == 3


@pytest.mark.parametrize(("model", "threads_seen"), [("processes", 1), ("threads", 4)])
def test_a_simulation_without_threads_runs_the_models_default(
    model: str, threads_seen: int
) -> None:
    """8 clients, 10 ms of I/O each, on one process: the recording's header and the requests
    running at once are those of the default threads (1 for ``processes``: one at a time)."""
    recorder = Recorder()
    config = SimConfig(
        model=model, concurrency=8, requests=16, workload=inline_workload(io=Fixed(10 * MS))
    ).check(recorded=True)
    result = simulate(config, recorder=recorder)
    assert recorder.header["server"]["threads"] == threads_seen
    assert result.summary["max_in_flight"] == threads_seen
